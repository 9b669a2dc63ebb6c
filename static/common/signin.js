// The sign-in form shared by the pages: POST /auth/login, then GET /auth/me to check the role.
import { ApiError, auth, currentUser, signIn } from "./api.js";
import { $, say } from "./dom.js";

/**
 * Resolve with the signed-in user whose role is in `roles`. Uses the stored token when it is still
 * valid; otherwise shows `form` (a <form> with #email, #password and an .alert) until someone signs in.
 */
export async function signedIn(form, roles) {
  const existing = await currentUser();
  if (existing && roles.includes(existing.role)) return existing;
  auth.signOut();
  return new Promise((resolve) => {
    const alert = $(".alert", form);
    const button = $("button[type=submit]", form);
    form.closest("section").hidden = false;
    $("input[name=email]", form).focus();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      say(alert, "");
      button.disabled = true;
      try {
        const user = await signIn($("input[name=email]", form).value.trim(), $("input[name=password]", form).value);
        if (!roles.includes(user.role)) {
          auth.signOut();
          say(alert, "This account cannot open this page.", "error");
          return;
        }
        $("input[name=password]", form).value = "";
        resolve(user);
      } catch (error) {
        say(alert, error instanceof ApiError ? error.summary : "Sign-in failed.", "error");
      } finally {
        button.disabled = false;
      }
    });
  });
}
