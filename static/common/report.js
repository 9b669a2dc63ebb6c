// Rendering of GET /interviews/{id}/report (seed 001's report) for the monitor and management pages.
import { barChart, questionChart, SERIES } from "./chart.js";
import { h } from "./dom.js";

/**
 * The report as a DOM node. `questionText` maps question ids to their text (optional). A report that is
 * `processing` or `incomplete` renders as a short message.
 */
export function renderReport(report, questionText = new Map()) {
  if (!report || !report.decision) {
    return h("p", { class: "alert info", text: report && report.message ? report.message : "The report is not ready yet." });
  }
  const scores = report.scores || {};
  const overall = barChart(
    [
      { label: "Technical", value: scores.technical, color: SERIES[0].color },
      { label: "Communication", value: scores.communication, color: SERIES[1].color },
      { label: "Behaviour", value: scores.behavior, color: SERIES[2].color },
    ],
    "Overall scores out of 100",
  );
  const perQuestion = (report.questions || []).map((q, n) => ({ ...q, label: `Q${n + 1}` }));
  return h(
    "div",
    { class: "report stack" },
    h("div", { class: "row" },
      h("span", { class: `badge ${report.decision}`, text: report.decision, attrs: { "data-testid": "decision" } }),
      report.match_score !== undefined && report.match_score !== null
        ? h("span", { class: "muted small", text: `Resume match ${Math.round(report.match_score)} / 100` })
        : null),
    h("div", { class: "chart", attrs: { "data-testid": "report-chart" } }, overall),
    perQuestion.length
      ? h("div", { class: "chart" }, questionChart(perQuestion, "Scores per question"),
          h("div", { class: "legend" }, SERIES.map((s, k) => h("span", { class: ["c-acc", "c-com", "c-beh"][k], text: s.label }))))
      : null,
    report.summary ? h("p", { text: report.summary }) : null,
    list("Strengths", report.strengths),
    list("Gaps", report.gaps),
    perQuestion.length
      ? h("details", {},
          h("summary", { text: "Answers and feedback" }),
          h("ol", { class: "answers" }, perQuestion.map((q) => h("li", {},
            h("strong", { text: questionText.get(q.question_id) || q.label }),
            h("p", { class: "small", text: q.transcript || "(no transcript)" }),
            h("p", { class: "small muted", text: q.feedback || "" })))))
      : null,
  );
}

function list(title, items) {
  if (!items || !items.length) return null;
  return h("div", {}, h("h3", { text: title }), h("ul", {}, items.map((item) => h("li", { text: item }))));
}
