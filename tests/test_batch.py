"""Grading a whole class (`python -m autograder batch`) and comparing two gradings (`compare`).

The class here is small on purpose (the test file runs in well under a minute on two
cores): correct solutions, a slice of the team's mistake corpus, broken and hostile
submissions, and a Gradescope export zip. Throughput on a bigger class is the benchmark's
business, not the test suite's.
"""
import base64
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

import pytest

from conftest import ROOT, SUBMISSIONS, grade_many, validate, write_mistake, write_submission
from autograder import archives, config
from autograder.classroom import compare, discover, report, run, scores
from autograder.sandbox import processes

CORRECT = os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py")
MISTAKES = ["backprop-skips-link-term", "two-neuron-link-weight-swapped", "softmax-jacobian-diagonal-only",
            "nll-grad-returns-dz", "dL-dW0-flattened", "softmax-jacobian-not-implemented"]
HOSTILE = "empty<img src=x onerror=alert(1)>"  # a folder name that must not become HTML
BROKEN = {
    "syntax-error": "import numpy as np\ndef link_term(W)\n    return W\n",
    "exits-at-import": "import os\nos._exit(3)\n",
}
LOOPS_AT_IMPORT = "while True:\n    pass\n"  # graded in its own small classes below: it costs 10 s
METADATA = """\
submission_101:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1001'
    :email: ada@example.edu
  :created_at: 2025-02-01 10:00:00.000000000 -05:00
  :score: 0.0
submission_102:
  :submitters:
  - :name: Bob Bayes
    :sid: '1002'
    :email: bob@example.edu
  - :name: Carol Chain
    :sid: '1003'
    :email: carol@example.edu
  :created_at: 2025-02-01 11:00:00.000000000 -05:00
  :score: !ruby/object:BigDecimal 18:0.0
submission_103:
  :submitters:
  - :name: Dan Descent
    :sid: '1004'
    :email: dan@example.edu
  :created_at: 2025-02-02 09:30:00.000000000 -05:00
submission_104:
  :submitters:
  - :name: Eve Empty
    :sid: '1005'
    :email: eve@example.edu
"""


def full_marks(results):
    """The assignment's points, from a results.json (the tests change; this file does not hard-code them)."""
    return scores.points(sum(t["max_score"] for t in results["tests"]))


def run_cli(*args, timeout=300):
    done = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def results_of(out, sub_id):
    with open(os.path.join(out, sub_id, "results.json"), encoding="utf-8") as f:
        return json.load(f)


def without_time(results):
    return {k: v for k, v in results.items() if k != "execution_time"}


def make_export(path, files):
    """A Gradescope "Export Submissions" zip: assignment_9_export/{submission_metadata.yml, submission_<id>/...}."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("assignment_9_export/submission_metadata.yml", METADATA)
        for name, text in files.items():
            z.writestr(f"assignment_9_export/{name}", text)
    return path


def export_files(mistake_text):
    correct = open(CORRECT, encoding="utf-8").read()
    style = open(os.path.join(SUBMISSIONS, "backprop", "correct_style", "backprop.py"), encoding="utf-8").read()
    return {"submission_101/backprop.py": correct, "submission_102/backprop.py": mistake_text,
            "submission_103/hw/code/backprop.py": style}  # submission_104: listed, no files


def mistake_text(tmp, name):
    with open(os.path.join(write_mistake("backprop", name, tmp), "backprop.py"), encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """A class folder graded by the CLI with --jobs 2: (class folder, out folder, stderr)."""
    folder = str(tmp_path_factory.mktemp("class"))
    for style in ("correct", "correct_loops"):
        shutil.copytree(os.path.join(SUBMISSIONS, "backprop", style), os.path.join(folder, style))
    for name in MISTAKES:
        write_mistake("backprop", name, folder)
    shutil.copytree(os.path.join(folder, MISTAKES[0]), os.path.join(folder, "same-mistake-as-another"))
    for name, text in BROKEN.items():
        write_submission(folder, name, text)
    os.makedirs(os.path.join(folder, HOSTILE))
    shutil.copyfile(CORRECT, os.path.join(folder, "frank.py"))  # one file: graded as backprop.py
    os.makedirs(os.path.join(folder, ".hidden"))
    out = os.path.join(str(tmp_path_factory.mktemp("graded")), "out")
    code, _, err = run_cli("batch", "backprop", folder, "--out", out, "--jobs", "2")
    assert code == 0, err
    return folder, out, err


@pytest.fixture(scope="module")
def graded_export(tmp_path_factory):
    """A Gradescope export zip graded into a folder: (zip, out folder)."""
    tmp = str(tmp_path_factory.mktemp("export"))
    path = make_export(os.path.join(tmp, "export.zip"), export_files(mistake_text(tmp, MISTAKES[0])))
    out = os.path.join(tmp, "out")
    assert run.run_batch("backprop", path, out, jobs=2, progress=False) == 0
    return path, out


# ---- the class and its scores -----------------------------------------------------

def test_every_submission_gets_a_valid_results_json(graded_class):
    folder, out, _ = graded_class
    ids = sorted(os.listdir(folder))
    ids.remove(".hidden")
    ids[ids.index("frank.py")] = "frank"
    for sub_id in ids:
        validate(results_of(out, sub_id))
    assert not os.path.exists(os.path.join(out, ".hidden"))
    rows = read_csv(os.path.join(out, "scores.csv"))
    assert sorted(r["Submission ID"] for r in rows) == sorted(ids)


def test_scores_match_grading_each_submission_alone(graded_class, tmp_path):
    folder, out, _ = graded_class
    rows = {r["Submission ID"]: r for r in read_csv(os.path.join(out, "scores.csv"))}
    # One of each kind of row (a mistake, a broken import, a single file), graded alone as a
    # TA would; the export's rows are checked against these folders' rows below.
    alone = {MISTAKES[2]: os.path.join(folder, MISTAKES[2]), "exits-at-import": os.path.join(folder, "exits-at-import"),
             "frank": CORRECT}
    graded = grade_many("backprop", list(alone.values()), str(tmp_path))
    for sub_id, path in alone.items():
        results = graded[path]
        assert without_time(results_of(out, sub_id)) == without_time(results), sub_id
        row = rows[sub_id]
        assert row["Total"] == scores.points(results["score"])
        for t in results["tests"]:
            assert row[f"{t['number']} {t['name']} ({scores.points(t['max_score'])})"] == scores.points(t["score"])


def test_broken_submissions_fail_alone_in_their_rows(graded_class):
    _, out, _ = graded_class
    rows = {r["Submission ID"]: r for r in read_csv(os.path.join(out, "scores.csv"))}
    top = full_marks(results_of(out, "correct"))
    assert rows["correct"]["Total"] == rows["correct_loops"]["Total"] == rows["frank"]["Total"] == top
    for sub_id in list(BROKEN) + [HOSTILE]:
        assert rows[sub_id]["Total"] == "0", sub_id
    assert {t["extra_data"]["error"] for t in results_of(out, "exits-at-import")["tests"]} == {"exit"}


def test_a_second_run_grades_nothing_and_changes_nothing(graded_class):
    folder, out, _ = graded_class
    before = {f: os.path.getmtime(os.path.join(out, f, "results.json")) for f in ("correct", "syntax-error")}
    with open(os.path.join(out, "scores.csv"), "rb") as f:
        scores = f.read()
    started = time.monotonic()
    code, _, err = run_cli("batch", "backprop", folder, "--out", out, "--jobs", "2")
    assert code == 0, err
    assert "grading 0" in err and "already graded" in err
    assert time.monotonic() - started < 15
    assert before == {f: os.path.getmtime(os.path.join(out, f, "results.json")) for f in before}
    with open(os.path.join(out, "scores.csv"), "rb") as f:
        assert f.read() == scores


# ---- a Gradescope export ----------------------------------------------------------

def test_an_export_gives_one_row_per_submitter(graded_export):
    _, out = graded_export
    rows = read_csv(os.path.join(out, "scores.csv"))
    assert list(rows[0])[:5] == ["Name", "Email", "SID", "Submission ID", "Total"]
    by_name = {r["Name"]: r for r in rows}
    top = full_marks(results_of(out, "submission_101"))
    assert set(by_name) == {"Ada Lovelace", "Bob Bayes", "Carol Chain", "Dan Descent", "Eve Empty"}
    assert by_name["Ada Lovelace"]["Total"] == by_name["Dan Descent"]["Total"] == top
    assert by_name["Bob Bayes"]["Submission ID"] == by_name["Carol Chain"]["Submission ID"] == "submission_102"
    assert by_name["Bob Bayes"]["Total"] == by_name["Carol Chain"]["Total"] != top
    assert by_name["Carol Chain"]["Email"] == "carol@example.edu" and by_name["Carol Chain"]["SID"] == "1003"
    missing = results_of(out, "submission_104")
    validate(missing)
    assert missing["extra_data"]["error"] == "missing" and by_name["Eve Empty"]["Total"] == "0"


def test_force_grades_again_and_scores_are_byte_identical(graded_export):
    path, out = graded_export
    with open(os.path.join(out, "scores.csv"), "rb") as f:
        first = f.read()
    before = os.path.getmtime(os.path.join(out, "submission_101", "results.json"))
    assert run.run_batch("backprop", path, out, jobs=2, force=True, progress=False) == 0
    assert os.path.getmtime(os.path.join(out, "submission_101", "results.json")) > before
    with open(os.path.join(out, "scores.csv"), "rb") as f:
        assert f.read() == first


def test_export_submissions_are_graded_like_the_same_files_in_a_folder(graded_export, graded_class):
    _, out = graded_export
    _, class_out, _ = graded_class
    # submission_102 is the class's first mistake, submission_101 its correct solution
    assert without_time(results_of(out, "submission_102")) == without_time(results_of(class_out, MISTAKES[0]))
    assert without_time(results_of(out, "submission_101")) == without_time(results_of(class_out, "correct"))
    found = results_of(out, "submission_103")  # its backprop.py is in hw/code/ inside its folder
    assert scores.points(found["score"]) == full_marks(found)


def test_an_export_gets_the_late_penalty_from_created_at_and_identical_scores_twice(tmp_path):
    """1.5 days late at 10% a day loses 15%; never the submission limit (a regrade is one grading each)."""
    folder = tmp_path / "backprop"
    shutil.copytree(config.find("backprop").folder, folder)
    with open(folder / "assignment.yaml", "a") as f:
        f.write("\nsubmissions: {limit: 1, per: 24h}\n"
                "late: {penalty_per_day: 0.1, cap: 0.5, grace_minutes: 15, due_date: 2025-01-31T21:30:00-05:00}\n")
    correct = open(CORRECT, encoding="utf-8").read()
    path = make_export(str(tmp_path / "export.zip"), {"submission_101/backprop.py": correct,
                                                     "submission_102/backprop.py": BROKEN["syntax-error"],
                                                     "submission_103/backprop.py": correct})
    out = str(tmp_path / "out")
    assert run.run_batch(str(folder), path, out, jobs=2, progress=False) == 0
    with open(os.path.join(out, "scores.csv"), "rb") as f:
        first = f.read()
    rows = {r["Name"]: r for r in read_csv(os.path.join(out, "scores.csv"))}
    assert list(rows["Dan Descent"])[4:7] == ["Total", "Before penalty", "Late penalty (%)"]
    dan = rows["Dan Descent"]  # submission_103, 2025-02-02 09:30 -05:00: 1.5 days late
    assert (dan["Total"], dan["Before penalty"], dan["Late penalty (%)"]) == ("41.65", "49", "15")
    ada = rows["Ada Lovelace"]  # 12.5 hours late: 0.521 days
    assert (ada["Total"], ada["Before penalty"], ada["Late penalty (%)"]) == ("46.45", "49", "5.21")
    assert rows["Eve Empty"]["Late penalty (%)"] == ""  # listed, no files: not graded
    found = results_of(out, "submission_103")
    validate(found)
    assert "1.5 days × 10% = 15%" in found["output"] and found["score"] == 41.65
    assert "submissions" not in found["extra_data"] and "Submissions" not in found["output"]
    assert all(results_of(out, i)["score"] > 0 for i in ("submission_101", "submission_103"))
    row = next(line for line in open(os.path.join(out, "report.md"), encoding="utf-8") if "| submission_102 |" in line)
    assert "could not be imported" in row and "Late penalty" not in row  # the report's headline skips the penalty
    assert run.run_batch(str(folder), path, out, jobs=2, force=True, progress=False) == 0
    with open(os.path.join(out, "scores.csv"), "rb") as f:
        assert f.read() == first


def test_compare_shows_what_a_regrade_changed(graded_export, tmp_path, capsys):
    old_zip, old = graded_export
    files = export_files(open(CORRECT, encoding="utf-8").read())  # submission_102 fixed its mistake
    new_zip = make_export(str(tmp_path / "export-v2.zip"), files)
    new = str(tmp_path / "new")
    shutil.copytree(old, new)
    assert run.run_batch("backprop", new_zip, new, jobs=2, progress=False) == 0
    assert os.path.getmtime(os.path.join(new, "submission_101", "results.json")) == \
        os.path.getmtime(os.path.join(old, "submission_101", "results.json"))  # unchanged: not regraded
    capsys.readouterr()
    assert compare.compare_gradings(old, new) == 0
    text = capsys.readouterr().out
    assert "1 changed" in text
    fixed = results_of(new, "submission_102")
    assert f"submission_102 (Bob Bayes, Carol Chain): {scores.points(results_of(old, 'submission_102')['score'])} -> " \
           f"{full_marks(fixed)} (+" in text
    two_layers = next(t for t in fixed["tests"] if t["name"] == "backprop — two layers, square loss")
    assert f"now passing: {two_layers['number']} backprop — two layers, square loss (0 -> " in text
    assert "submission_101" not in text.split("\n", 1)[1]
    code, stdout, _ = run_cli("compare", old, old)
    assert code == 0 and "0 changed" in stdout


# ---- limits, Ctrl-C ----------------------------------------------------------------

def batch_tmpdirs():
    return {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("autograder-batch-")}


def test_a_grader_over_its_wall_limit_is_stopped_and_still_gets_a_row(tmp_path):
    write_submission(str(tmp_path / "class"), "loops", LOOPS_AT_IMPORT)
    before = batch_tmpdirs()
    started = time.monotonic()
    assert run.run_batch("backprop", str(tmp_path / "class"), str(tmp_path / "out"), jobs=1,
                           wall_seconds=3, progress=False) == 0
    assert time.monotonic() - started < 10
    results = results_of(str(tmp_path / "out"), "loops")
    validate(results)
    assert results["extra_data"]["error"] == "timeout" and results["score"] == 0
    assert "did not finish within 3 s" in results["output"]
    assert batch_tmpdirs() - before == set()  # its sandbox folder went with it, and its worker
    rows = read_csv(str(tmp_path / "out" / "scores.csv"))
    assert [(r["Submission ID"], r["Total"]) for r in rows] == [("loops", "0")]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| loops | 0 | not graded: timeout |" in report


def test_ctrl_c_stops_every_grader_and_keeps_what_is_done(tmp_path):
    folder = tmp_path / "class"
    write_submission(str(folder), "a-correct", open(CORRECT, encoding="utf-8").read())
    write_submission(str(folder), "b-loops", LOOPS_AT_IMPORT)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "batch", "backprop", str(folder), "--out",
                             str(out), "--jobs", "2"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "a-correct" / "results.json").exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    tree = processes.descendants(proc.pid)
    assert tree  # the loop's grader and its worker are still running
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted: 1 of 2" in err
    assert [p for p in tree if p in processes.tree(p)] == []  # tree(p) holds p while p is alive
    assert sorted(os.listdir(out / "b-loops")) == ["grade.txt", "pytest.log"]  # no results, no .tmp
    assert [r["Submission ID"] for r in read_csv(str(out / "scores.csv"))] == ["a-correct"]


# ---- the report --------------------------------------------------------------------

def test_report_md_has_the_class_at_a_glance(graded_class):
    _, out, _ = graded_class
    report = open(os.path.join(out, "report.md"), encoding="utf-8").read()
    for title in ("## Score distribution", "## Pass rate by factor", "## Pass rate by test",
                  "## Most common misconceptions", "## Errors and timeouts"):
        assert title in report
    assert "| link-term | " in report and "| end-to-end | " in report
    # two students skipped the link term in backprop: one misconception, two submissions
    line = next(line for line in report.splitlines() if line.startswith("| link-term-skipped |"))
    assert "| 2 |" in line and MISTAKES[0] in line and "same-mistake-as-another" in line
    n = len(results_of(out, "syntax-error")["tests"])
    assert f"| syntax-error | 0 | syntax in {n} tests |" in report
    assert f"| exits-at-import | 0 | exit in {n} tests |" in report


def test_report_html_is_self_contained_and_escapes_names(graded_class):
    _, out, _ = graded_class
    page = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "<img src=x" not in page and html_escaped(HOSTILE) in page
    if has_matplotlib():
        assert page.count('src="data:image/png;base64,') == 2
    else:
        assert 'pip install -e ".[report]"' in page.replace("&quot;", '"')


def html_escaped(text):
    import html
    return html.escape(text)


def has_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def test_without_matplotlib_the_report_says_what_to_install(graded_class, tmp_path, monkeypatch):
    _, out, _ = graded_class
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)  # import fails
    a = config.find("backprop")
    subs = [discover.Submission(i, "") for i in ("correct", "syntax-error")]
    for s in subs:
        shutil.copytree(os.path.join(out, s.id), tmp_path / s.id)
    assert report.write_reports(str(tmp_path), a, subs, scores.load_all(str(tmp_path), subs)) is False
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'pip install -e &quot;.[report]&quot;' in page and "data:image/png" not in page
    assert page.count("<table>") == 5  # distribution, factors, tests, errors, protections (no misconception here)
    assert "<h2>Pass rate by factor</h2>" in page and "<td>link-term</td>" in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(not CHROMIUM, reason="no Chromium on this machine (apt-get install chromium) to render report.html")
def test_report_html_renders_in_a_headless_browser(graded_class, tmp_path):
    _, out, _ = graded_class
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path}",
         "--dump-dom", "file://" + os.path.join(out, "report.html")],
        capture_output=True, text=True, timeout=120)
    dom = done.stdout
    assert "Pass rate by factor" in dom, done.stderr[-2000:]
    assert dom.count("<table>") == 6 and "<th>factor</th>" in dom
    assert "<img src=" not in dom  # the hostile folder name stayed text
    if has_matplotlib():
        charts = dom.split('src="data:image/png;base64,')[1:]
        assert dom.count("<img ") == len(charts) == 2, "the score distribution and the per-factor pass rates"
        for chart in charts:
            assert base64.b64decode(chart.split('"', 1)[0])[:8] == b"\x89PNG\r\n\x1a\n"
    else:  # the page still has its tables, and says how to get the charts
        assert 'pip install -e ".[report]"' in dom.replace("&quot;", '"')


# ---- reading a class ---------------------------------------------------------------

def test_metadata_is_read_with_or_without_ruby_colons(tmp_path):
    path = tmp_path / "submission_metadata.yml"
    path.write_text(METADATA + "submission_200:\n  submitters:\n  - name: No Colon\n    sid: 7\n    email: n@c.edu\n")
    found = discover.load_metadata(str(path))
    assert found["submission_102"]["submitters"][1] == {"name": "Carol Chain", "email": "carol@example.edu",
                                                         "sid": "1003"}
    assert found["submission_200"]["submitters"] == [{"name": "No Colon", "email": "n@c.edu", "sid": "7"}]
    assert found["submission_104"]["submitters"][0]["name"] == "Eve Empty"


def zip_with(path, entries):
    with zipfile.ZipFile(path, "w") as z:
        for name, text, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode:
                info.external_attr = mode << 16
            z.writestr(info, text)
    return str(path)


@pytest.mark.parametrize("name", ["../evil.py", "a/../../evil.py", "/etc/evil.py", "C:/evil.py", "a\\..\\..\\evil.py"])
def test_a_zip_that_escapes_its_folder_is_refused(tmp_path, name):
    path = zip_with(tmp_path / "x.zip", [("ok/backprop.py", "x = 1\n", 0), (name, "x = 1\n", 0)])
    with pytest.raises(discover.BatchError, match="unsafe path"):
        discover.safe_extract(path, str(tmp_path / "into"))
    assert not (tmp_path / "evil.py").exists()
    code, _, err = run_cli("batch", "backprop", path, "--out", str(tmp_path / "out"))
    assert code == 2 and "unsafe path" in err


def test_a_zip_never_makes_links_and_has_size_limits(tmp_path, monkeypatch):
    path = zip_with(tmp_path / "x.zip", [("a/backprop.py", "x = 1\n", 0o100644),
                                         ("a/link", "/etc/passwd", 0o120777)])
    discover.safe_extract(path, str(tmp_path / "into"))
    assert (tmp_path / "into" / "a" / "backprop.py").is_file()
    assert not os.path.lexists(tmp_path / "into" / "a" / "link")
    monkeypatch.setattr(archives, "EXPORT_LIMITS", archives.ZipLimits(10, 2**20, 10))
    big = zip_with(tmp_path / "big.zip", [("a/backprop.py", "x" * 11, 0)])
    with pytest.raises(discover.BatchError, match="more than the sizes allowed"):
        discover.safe_extract(big, str(tmp_path / "into2"))


def test_a_folder_of_files_and_folders_is_a_class(tmp_path):
    a = config.find("backprop")
    folder = tmp_path / "class"
    (folder / "alice").mkdir(parents=True)
    (folder / "bob.py").write_text("x = 1\n")
    (folder / "carol.zip").write_bytes(open(zip_with(tmp_path / "c.zip", [("hw/backprop.py", "y = 2\n", 0)]), "rb").read())
    (folder / "notes.txt").write_text("not a submission\n")
    (folder / "dave.ipynb").write_text("{}")  # a notebook: uploads.py makes it the student file
    (folder / ".DS_Store").write_text("")
    out = folder / "graded"  # an output folder inside the class is not a submission
    out.mkdir()
    subs = discover.discover(str(folder), str(out), a)
    assert [s.id for s in subs] == ["alice", "bob", "carol", "dave"]
    assert os.listdir(subs[3].path) == ["dave.ipynb"]
    assert open(os.path.join(subs[1].path, "backprop.py")).read() == "x = 1\n"
    assert open(os.path.join(subs[2].path, "hw", "backprop.py")).read() == "y = 2\n"
    assert discover.natural("submission_9") < discover.natural("submission_10")
