"""The HTML report: what a real browser draws from it, and that it is safe.

memlens --html writes one self-contained page; headless Chromium renders it
(--dump-dom gives the DOM after the page's script ran) and the tests check:
- every leak record of the JSON report is in the rendered page, as an
  element with data-leak-kind, with the same count per kind;
- every section is drawn for the process;
- a target whose path and argv carry HTML and <script> cannot run script
  in the page: the text shows escaped and the page title is untouched.
Without chromium the rendering tests are skipped (apt-get install chromium;
./quickstart.sh check installs it); the checks on the file itself still run.
"""

import collections
import html.parser
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import mlharness as h

XSS_ARG = '<script>document.title="pwned"</script>'
IMG_ARG = '<img src=x onerror=document.title="pwned">'
SECTIONS = ("summary", "leaks", "flame", "map", "heap", "timeline", "shm")


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def skip_without_chromium():
    if chromium() is None:
        raise unittest.SkipTest("chromium is not installed: the HTML report is "
                                "not rendered (apt-get install chromium)")


def dump_dom(path, fragment="#all"):
    """The DOM of the page at path after its script ran, as HTML text."""
    with tempfile.TemporaryDirectory(prefix="mlchrome.") as profile:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--user-data-dir=" + profile,
               "--dump-dom", "file://" + os.path.abspath(path) + fragment]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=h.TIMEOUT)
    if p.returncode != 0 or not p.stdout:
        raise AssertionError("chromium failed (%d): %s" % (
            p.returncode, p.stderr.decode("utf-8", "replace")[-2000:]))
    return p.stdout.decode("utf-8", "replace")


class DomScan(html.parser.HTMLParser):
    """Counts start tags, data-leak-kind values and ids; keeps the head's
    title, the text of the page and the text inside <b> elements."""

    VOID = {"meta", "link", "img", "input", "br", "hr", "col", "wbr", "source"}

    def __init__(self):
        super().__init__()
        self.tags = collections.Counter()
        self.kinds = collections.Counter()
        self.region_kinds = collections.Counter()   # data-rk values
        self.ids = set()
        self.title = None
        self.text = []
        self.bold = []
        self._open = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        a = dict(attrs)
        if "data-leak-kind" in a:
            self.kinds[a["data-leak-kind"]] += 1
        if "data-rk" in a:
            self.region_kinds[a["data-rk"]] += 1
        if "id" in a:
            self.ids.add(a["id"])
        if tag not in self.VOID:
            self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data):
        if self._open and self._open[-1] == "title" and "svg" not in self._open \
                and self.title is None:
            self.title = data
        if "script" not in self._open:
            self.text.append(data)
        if "b" in self._open:
            self.bold.append(data)


def scan(text):
    s = DomScan()
    s.feed(text)
    s.close()
    return s


def island(html_text):
    """The JSON data island that the page's script reads."""
    m = re.search(r'<script type="application/json" id="memlens-data">(.*?)</script>',
                  html_text, re.S)
    if not m:
        raise AssertionError("no JSON data island in the HTML report")
    return json.loads(m.group(1))


def run_with_html(target, args=(), options=()):
    """Run memlens --html (and --json) on target; returns (run, html text)."""
    with tempfile.TemporaryDirectory(prefix="mlhtml.") as tmp:
        page = os.path.join(tmp, "report.html")
        run = h.run_memlens(target, args=args, options=["--html=" + page] + list(options))
        with open(page, encoding="utf-8") as f:
            return run, f.read()


class HtmlFile(unittest.TestCase):
    """The file itself, without a browser."""

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.ml, cls.html = run_with_html("leaky")

    def test_exit_status_unchanged(self):
        self.assertEqual(self.ml.status, 0, "stderr:\n" + self.ml.stderr[-4000:])

    def test_island_has_every_record(self):
        doc = self.ml.json
        self.assertIsNotNone(doc, "no JSON report")
        data = island(self.html)
        self.assertEqual(len(data["processes"]), len(doc["processes"]))
        for p, q in zip(data["processes"], doc["processes"]):
            self.assertEqual(p["pid"], q["pid"])
            self.assertEqual(len(p["records"]), len(q["leaks"]["records"]))

    def test_self_contained(self):
        self.assertNotRegex(self.html, r"<link\b", "the page links another file")
        self.assertNotRegex(self.html, r"""(src|href)\s*=\s*["']?\s*(https?:|//)""",
                            "the page loads something from the network")
        self.assertIn("default-src 'none'", self.html)

    def test_one_page_script(self):
        s = scan(self.html)
        self.assertEqual(s.tags["script"], 2)   # the data island and the script


class HtmlInChromium(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        skip_without_chromium()
        cls.ml, html_text = run_with_html("leaky")
        with tempfile.TemporaryDirectory(prefix="mlhtml.") as tmp:
            page = os.path.join(tmp, "leaky.html")
            with open(page, "w", encoding="utf-8") as f:
                f.write(html_text)
            cls.dom = scan(dump_dom(page))

    def records(self):
        self.assertIsNotNone(self.ml.json, "no JSON report")
        return [r for p in self.ml.json["processes"] for r in p["leaks"]["records"]]

    def test_record_count_equals_json(self):
        self.assertGreater(len(self.records()), 0)
        self.assertEqual(sum(self.dom.kinds.values()), len(self.records()))

    def test_kind_counts_match_json(self):
        want = collections.Counter(r["kind"] for r in self.records())
        self.assertEqual(dict(self.dom.kinds), dict(want))

    def test_every_section_drawn(self):
        for p in self.ml.json["processes"]:
            for section in SECTIONS:
                with self.subTest(pid=p["pid"], section=section):
                    self.assertIn("p%d-%s" % (p["pid"], section), self.dom.ids)

    def test_title_names_the_program(self):
        self.assertIn("leaky", self.dom.title)

    def test_memlens_session_drawn_not_unmapped(self):
        # One legend swatch per memory map, then one row per session range.
        procs = self.ml.json["processes"]
        sessions = sum(len(p["memlens_regions"]) for p in procs)
        self.assertGreater(sessions, 0)
        self.assertEqual(self.dom.region_kinds["memlens"], len(procs) + sessions)
        self.assertEqual("".join(self.dom.text).count("memlens session"), sessions)


def record_rows(dom_text):
    """(record number, kind, "Allocated at" function) of each drawn record, in page order."""
    rows = []
    for m in re.finditer(r'<tbody class="rec" data-leak-kind="(\w+)"[^>]*?data-record="(\d+)"'
                         r'.*?<td class="where">.*?<span class="fn">([^<]*)</span>', dom_text, re.S):
        rows.append((int(m.group(2)), m.group(1), m.group(3)))
    return rows


def page_of(run_args, fragment="", options=(), target="leaky"):
    """(run, island, DOM text) of memlens --html on target, opened at fragment."""
    with tempfile.TemporaryDirectory(prefix="mlhtml.") as tmp:
        page = os.path.join(tmp, "report.html")
        run = h.run_memlens(target, args=run_args, options=["--html=" + page] + list(options))
        with open(page, encoding="utf-8") as f:
            data = island(f.read())
        return run, data, dump_dom(page, fragment)


class HtmlLeakTable(unittest.TestCase):
    """What the leak table shows first: the kinds --show-leak-kinds names,
    numbered as the text report numbers them, named past the wrappers."""

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        skip_without_chromium()
        cls.ml, cls.data, cls.dom = page_of((), "")

    def test_shown_kinds_first_others_one_click_away(self):
        # leaky: 5 definite + 1 possible records are listed (memcheck's default
        # --show-leak-kinds=definite,possible); its 2 indirect records (two
        # make_child calls) and 3 reachable ones (keep_global, keep_in_static,
        # keep_list's 3 x 32) (samples/README.md) wait behind one button.
        rows = record_rows(self.dom)
        kinds = [k for _, k, _ in rows]
        self.assertEqual(kinds, ["definite"] * 5 + ["possible"])
        self.assertTrue("5 records of other kinds not shown (indirectly lost 2, still reachable 3)"
                        in self.dom)
        self.assertTrue(">Show all kinds</button>" in self.dom)

    def test_records_numbered_as_the_text_report(self):
        # The text report's "in loss record i of n" lines, by bytes; the page's
        # record i must be the JSON's records[i - 1] (both sorted as memcheck).
        text = dict((int(n), int(b.replace(",", ""))) for b, n in re.findall(
            r"== ([\d,]+) (?:\([^)]*\) )?bytes in [\d,]+ blocks are \w+ lost in loss record (\d+) of",
            self.ml.stderr))
        recs = self.ml.json["processes"][0]["leaks"]["records"]
        rows = record_rows(self.dom)
        self.assertEqual(len(rows), 6)
        for number, kind, _ in rows:
            with self.subTest(record=number):
                self.assertEqual(recs[number - 1]["kind"], kind)
                self.assertEqual(text[number], recs[number - 1]["bytes"] +
                                 recs[number - 1]["indirect_bytes"])
        self.assertTrue("loss record %d of %d" % (rows[0][0], len(recs)) in self.dom)

    def test_shown_kinds_follow_the_option(self):
        _, data, dom = page_of((), "", options=["--show-leak-kinds=reachable"])
        self.assertEqual(data["show_kinds"], ["reachable"])
        self.assertEqual({k for _, k, _ in record_rows(dom)}, {"reachable"})


class HtmlAllocatedAt(unittest.TestCase):
    """samples/wrapped: "Allocated at" is the first frame past known wrappers."""

    def test_past_xmalloc(self):
        h.require_memlens()
        skip_without_chromium()
        _, _, dom = page_of((), "", target="wrapped")
        # 48 bytes via xmalloc (record 1), 72 via pool_get -> xmalloc (record 2).
        self.assertEqual(record_rows(dom), [(2, "definite", "pool_get"),
                                            (1, "definite", "leak_via_xmalloc")])

    def test_past_alloc_fn(self):
        h.require_memlens()
        skip_without_chromium()
        _, data, dom = page_of((), "", options=["--alloc-fn=pool_get"], target="wrapped")
        self.assertIn("pool_get", data["alloc_fns"])
        self.assertEqual(record_rows(dom), [(2, "definite", "leak_via_pool"),
                                            (1, "definite", "leak_via_xmalloc")])


class HtmlManyProcesses(unittest.TestCase):
    """A shell that runs /bin/true five times: 6 processes, more than the page
    opens at once, so it starts with one row per process and closed sections."""

    SCRIPT = "for i in 1 2 3 4 5; do /bin/true; done"

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        skip_without_chromium()
        sh = shutil.which("sh")
        cls.ml, cls.data, cls.dom = page_of(["-c", cls.SCRIPT], "", options=["--trace-children=yes"], target=sh)
        cls.pids = [p["pid"] for p in cls.data["processes"]]

    def test_one_row_per_process_first(self):
        self.assertEqual(len(self.pids), 6)
        table = self.dom.find('<table class="procs">')
        self.assertGreater(table, 0, "no table of processes")
        self.assertLess(table, self.dom.index('class="proc'), "the table comes before the sections")
        rows = re.findall(r'<tr data-pid="(\d+)"', self.dom)
        self.assertEqual([int(p) for p in rows], self.pids)
        for pid in self.pids:
            self.assertTrue('href="#proc-%d"' % pid in self.dom)

    def test_sections_closed_and_not_built(self):
        for pid in self.pids:
            with self.subTest(pid=pid):
                self.assertTrue('id="proc-%d"' % pid in self.dom)
                self.assertFalse('id="p%d-leaks"' % pid in self.dom)

    def test_a_link_opens_its_section(self):
        with tempfile.TemporaryDirectory(prefix="mlhtml.") as tmp:
            page = os.path.join(tmp, "r.html")
            h.run_memlens(shutil.which("sh"), args=["-c", self.SCRIPT],
                          options=["--html=" + page, "--trace-children=yes"])
            with open(page, encoding="utf-8") as f:
                pids = [p["pid"] for p in island(f.read())["processes"]]
            dom = dump_dom(page, "#proc-%d" % pids[-1])
        self.assertTrue('id="p%d-leaks"' % pids[-1] in dom)
        self.assertFalse('id="p%d-leaks"' % pids[0] in dom)


class HtmlOwnFootprint(unittest.TestCase):
    """memlens's own mappings are drawn apart and counted apart."""

    def test_own_regions_apart(self):
        h.require_memlens()
        skip_without_chromium()
        run, data, dom = page_of((), "")
        regions = run.json["processes"][0]["regions"]
        own = [r for r in regions if r["owner"] == "memlens"]
        self.assertTrue(own)
        # one map row per memlens region, and one footer row of the kind table
        self.assertEqual(len(re.findall(r'class="region own"[^>]*data-owner="memlens"', dom)), len(own))
        row = re.search(r'<tr class="ownrow" data-owner="memlens"[^>]*><td>[^<]*</td><td class="n">([\d,]+)</td>', dom)
        self.assertIsNotNone(row, "no row for memlens's own regions in the kind table")
        self.assertEqual(int(row.group(1).replace(",", "")), len(own))
        # the kind table's region counts are the program's alone
        counts = re.findall(r'<tr data-rk="([\w-]+)"><td><span class="sw"></span>[\w-]+</td><td class="n">([\d,]+)</td>', dom)
        self.assertEqual(sum(int(n.replace(",", "")) for _, n in counts), len(regions) - len(own))


class HtmlEscaping(unittest.TestCase):
    """A target named and called with HTML cannot put markup or script in the page."""

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        skip_without_chromium()
        cls.tmp = tempfile.TemporaryDirectory(prefix="mlxss.")
        folder = os.path.join(cls.tmp.name, "x<b>y")
        os.mkdir(folder)
        cls.exe = os.path.join(folder, "leaky<u>")
        shutil.copy(h.require_sample("leaky"), cls.exe)
        cls.ml, cls.html = run_with_html(cls.exe, args=[XSS_ARG, IMG_ARG])
        page = os.path.join(cls.tmp.name, "report.html")
        with open(page, "w", encoding="utf-8") as f:
            f.write(cls.html)
        cls.text = dump_dom(page)
        cls.dom = scan(cls.text)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_target_ran(self):
        self.assertEqual(self.ml.status, 0, "stderr:\n" + self.ml.stderr[-4000:])

    def test_script_did_not_run(self):
        self.assertIsNotNone(self.dom.title)
        self.assertNotIn("pwned", self.dom.title)

    def test_no_markup_from_the_target(self):
        self.assertEqual(self.dom.tags["script"], 2)
        self.assertEqual(self.dom.tags["img"], 0)
        self.assertEqual(self.dom.tags["u"], 0)
        self.assertFalse([t for t in self.dom.bold if "y/leaky" in t],
                         "the <b> of the path became an element")

    def test_text_shown_as_text(self):
        text = "".join(self.dom.text)
        self.assertIn(XSS_ARG, text)
        self.assertIn(IMG_ARG, text)
        self.assertIn("x<b>y/leaky<u>", text)

    def test_island_cannot_close_its_element(self):
        body = re.search(r'id="memlens-data">(.*?)</script>', self.html, re.S).group(1)
        self.assertNotIn("<", body)
        self.assertEqual(island(self.html)["processes"][0]["argv"][1], XSS_ARG)


class HtmlOutput(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def test_unwritable_path(self):
        with tempfile.TemporaryDirectory(prefix="mlhtml.") as tmp:
            page = os.path.join(tmp, "no-such-dir", "report.html")
            status, _, err = h.run_memlens_cli(
                ["--html=" + page, "--", h.require_sample("leaky")])
        self.assertEqual(status, 125, "stderr:\n" + err[-4000:])
        self.assertIn("memlens: error:", err)
        self.assertIn("report.html", err)


if __name__ == "__main__":
    unittest.main()
