"""Accounts and data created at start: the bootstrap admin, and the demo data of ``serve --demo``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from server.logs import log
from server.security import hash_password
from server.services import Services
from server.store import candidates, roles, users
from server.store.models import Candidate, JobRole, Role


async def ensure_admin(services: Services) -> None:
    """Create ``VIVA_ADMIN_EMAIL`` as an admin when it does not exist yet (never changes an existing one)."""
    settings = services.settings
    if not settings.admin_email or settings.admin_password is None:
        return
    await ensure_user(
        services,
        settings.admin_email,
        settings.admin_password.get_secret_value(),
        Role.admin,
        settings.admin_name,
    )


async def ensure_user(services: Services, email: str, password: str, role: Role, name: str) -> bool:
    """Create the account unless the email is taken; True when it was created."""
    try:
        async with services.db.session() as session:
            if await users.by_email(session, email) is not None:
                return False
            await users.create(
                session, email=email, name=name, password_hash=hash_password(password), role=role
            )
    except IntegrityError:  # another instance created it at the same moment
        return False
    log.info("account_bootstrapped", email=email, role=role.value)
    return True


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


DEMO_LOGINS = (
    DemoLogin("admin", "admin@viva.local", "viva-admin-demo"),
    DemoLogin("hr", "hr@viva.local", "viva-hr-demo"),
    DemoLogin("candidate", "candidate@viva.local", "viva-candidate-demo"),
)
DEMO_ROLES = (
    ("Software Developer", "Engineering", ["Python", "SQL", "Git"]),
    ("Frontend Developer", "Engineering", ["JavaScript", "React", "CSS"]),
    ("Data Analyst", "Data", ["SQL", "Python", "Statistics"]),
)
DEMO_POOL = (
    ("John Doe", "john.doe@example.com", "+91 9876543210", "Kochi", "Ernakulam", 0),
    ("Jane Smith", "jane.smith@example.com", "+91 9876543211", "Thiruvananthapuram", "Thiruvananthapuram", 1),
)


async def seed_demo(services: Services) -> tuple[DemoLogin, ...]:
    """Demo accounts, job roles and two pool candidates; idempotent."""
    names = {"admin": "Demo Admin", "hr": "Hana Recruiter", "candidate": "Casey Candidate"}
    for login in DEMO_LOGINS:
        await ensure_user(services, login.email, login.password, Role(login.role), names[login.role])
    async with services.db.session() as session:
        role_ids = []
        for name, category, skills in DEMO_ROLES:
            role = await roles.by_name(session, name)
            if role is None:
                role = JobRole(role_name=name, role_category=category, typical_skills=skills)
                session.add(role)
                await session.flush()
            role_ids.append(role.id)
        for name, email, phone, place, district, role_index in DEMO_POOL:
            if (
                await users.by_email(session, email) is None
                and await candidates.by_email(session, email) is None
            ):
                session.add(
                    Candidate(
                        name=name,
                        email=email,
                        phone_number=phone,
                        place=place,
                        district=district,
                        job_role_id=role_ids[role_index],
                    )
                )
    return DEMO_LOGINS
