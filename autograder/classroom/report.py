"""The class report: report.md and report.html (with matplotlib's charts when it is installed).

Both show the same sections (`report_tables`), rendered from the templates in templates/:
report.md and report.html are the pages, charts-note.html what report.html says without
matplotlib. In the HTML every value is escaped; in the markdown every table cell is.
"""
import base64
import html
import io
import os
import string

from ..judging.feedback import FACTORS
from ..results import write_atomic
from .scores import points, summarize

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
REPORT_HINT = 'pip install -e ".[report]"'
CHART_OF = {"Score distribution": "distribution", "Pass rate by factor": "factors"}


def template(name):
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
        return string.Template(f.read())


def write_reports(out, a, subs, results):
    """Writes report.md and report.html; returns True when the HTML has its charts."""
    data = summarize(a, subs, results)
    sections = report_tables(data)
    write_atomic(os.path.join(out, "report.md"), render_md(data, sections))
    charts = make_charts(data)
    write_atomic(os.path.join(out, "report.html"), render_html(data, sections, charts))
    return charts is not None


def percent(x):
    return f"{100 * x:.0f}%"


def intro(data):
    text = (f"{data['submissions']} submissions ({data['students']} students) of `{data['assignment']}`, "
            f"out of {points(data['possible'])} points.")
    if data["not_graded"]:
        text += f" {data['not_graded']} more are not graded yet (the run was interrupted)."
    return text


def report_tables(data):
    """[(section title, intro, header, rows)] shared by report.md and report.html."""
    st = data["stats"]
    most = max((n for _, n in data["bins"]), default=0) or 1
    sections = [(
        "Score distribution",
        f"Mean {st['mean']:.1f}, median {points(st['median'])}, lowest {points(st['min'])}, "
        f"highest {points(st['max'])} of {points(data['possible'])} points; {st['full']} with full marks, "
        f"{st['zero']} with zero.",
        ["score", "submissions", ""],
        [[r, n, "█" * round(20 * n / most)] for r, n in data["bins"]])]
    sections.append((
        "Pass rate by factor",
        "The share of submissions that passed every test of each kind of factor.",
        ["factor", "what it is", "tests", "passed all", "share"],
        [[f["factor"], f.get("what", FACTORS.get(f["factor"], "")), f["tests"], f"{f['passed']} of {data['submissions']}",
          percent(f["share"])] for f in data["factors"]]))
    sections.append((
        "Pass rate by test", "",
        ["#", "test", "factor", "points", "passed", "share"],
        [[t["number"], t["name"], t["factor"], points(t["points"]), t["passed"], percent(t["share"])]
         for t in data["tests"]]))
    sections.append((
        "Most common misconceptions",
        "Misconceptions the grader named in failed tests (extra_data.diagnosis), by the number of "
        "submissions that show them." if data["misconceptions"] else "The grader named no misconception.",
        ["misconception", "submissions", "failed tests", "in", "for example"],
        [[m["id"], m["submissions"], m["tests"], ", ".join(m["quantities"]), ", ".join(m["examples"])]
         for m in data["misconceptions"]]))
    sections.append((
        "Errors and timeouts",
        "Submissions that could not be graded, or whose code could not be imported, raised, ran out of "
        "time or memory, or ended its process (extra_data.error)." if data["errors"] else
        "No submission errored or timed out.",
        ["submission", "score", "what happened", "message"],
        [[e["id"], points(e["score"]), e["what"], e["message"]] for e in data["errors"]]))
    sections.append((
        "Protections",
        "What confined student code while this class was graded, as each grading measured it "
        "(extra_data.protections)." if data["protections"] else "No grading reported its protections.",
        ["protection", "in force in", "how, or why not"],
        [[p["name"], f"{p['in_force']} of {p['gradings']}", "; ".join(p["how"])] for p in data["protections"]]))
    return sections


# ---- report.md ---------------------------------------------------------------------

def md_cell(text):
    text = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return text.replace("<", "&lt;")  # a folder name is text, never HTML, wherever the markdown is shown


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_md(data, sections):
    blocks = []  # a section's heading, its text and its table, each one paragraph
    for title, text, header, rows in sections:
        blocks += [f"## {title}"] + ([text] if text else []) + ([md_table(header, rows)] if rows else [])
    return template("report.md").substitute(title=data["title"], intro=intro(data), sections="\n\n".join(blocks))


# ---- report.html -------------------------------------------------------------------

def render_html(data, sections, charts):
    e = html.escape
    body = [f"<h1>{e(data['title'])}: class report</h1>",
            "<p>" + e(intro(data)).replace(f"`{e(data['assignment'])}`", f"<code>{e(data['assignment'])}</code>") + "</p>"]
    if charts is None:
        # one line of the body, as the template file's own final newline is not
        body.append(template("charts-note.html").substitute(hint=e(REPORT_HINT)).removesuffix("\n"))
    for title, text, header, rows in sections:
        body.append(f"<h2>{e(title)}</h2>")
        if text:
            body.append(f"<p>{e(text)}</p>")
        if charts and title in CHART_OF:
            body.append(f'<img class="chart" alt="{e(title)}" src="data:image/png;base64,{charts[CHART_OF[title]]}">')
        if rows:
            body.append("<table>\n<tr>" + "".join(f"<th>{e(str(h))}</th>" for h in header) + "</tr>")
            for row in rows:
                cells = "".join(f'<td{" class=bar" if h == "" else ""}>{e(str(c))}</td>' for h, c in zip(header, row))
                body.append(f"<tr>{cells}</tr>")
            body.append("</table>")
    return template("report.html").substitute(title=e(data["title"]), body="\n".join(body))


# ---- the charts --------------------------------------------------------------------

def make_charts(data):
    """{"distribution": base64 PNG, "factors": base64 PNG}, or None without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None

    def png(fig):
        FigureCanvasAgg(fig)
        buffer = io.BytesIO()
        # no Software entry: the same class gives the same bytes, whatever matplotlib's version
        fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.add_subplot()
    labels = [r for r, _ in data["bins"]]
    ax.bar(range(len(labels)), [n for _, n in data["bins"]], color="#4c72b0")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_xlabel(f"score (of {points(data['possible'])} points)")
    ax.set_ylabel("submissions")
    ax.set_title("Score distribution")
    ax.yaxis.get_major_locator().set_params(integer=True)
    distribution = png(fig)

    factors = data["factors"]
    fig = Figure(figsize=(7, 0.45 * len(factors) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(range(len(factors)), [100 * f["share"] for f in factors], color="#55a868")
    ax.set_yticks(range(len(factors)), [f["factor"] for f in factors])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of submissions that passed every test of the factor")
    ax.set_title("Pass rate by factor")
    for k, f in enumerate(factors):
        ax.text(min(100 * f["share"] + 1, 92), k, percent(f["share"]), va="center", fontsize=8)
    return {"distribution": distribution, "factors": png(fig)}
