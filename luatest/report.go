package luatest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// This file holds the reports of a run: text for people (failures only,
// or every test with -v), TAP and JSON for CI systems on stdout, and JUnit
// XML to a file. Every text report ends with the line
// "N passed, N failed" (", N skipped" when there are some).

// reporter receives a run's events as they happen.
type reporter interface {
	fileStart(path string)
	test(r *Result)
	note(path, s string)
	listed(path string, tc *testCase)
	fileEnd(fr *FileResult)
	end(sum *Summary) error
}

func newReporter(opts Options) (reporter, error) {
	var rep reporter
	switch opts.Format {
	case "", "text":
		rep = &textReporter{w: opts.Stdout, verbose: opts.Verbose}
	case "tap":
		rep = &tapReporter{w: opts.Stdout, verbose: opts.Verbose}
	case "json":
		rep = &jsonReporter{w: opts.Stdout, stderr: opts.Stderr, verbose: opts.Verbose}
	default:
		return nil, fmt.Errorf("unknown report format %q: use text, tap or json", opts.Format)
	}
	if opts.JUnit != "" {
		rep = multiReporter{rep, &junitReporter{path: opts.JUnit, verbose: opts.Verbose}}
	}
	return rep, nil
}

// ClosingLine is the last line of a run's report: "N passed, N failed",
// then ", N skipped" when some were.
func ClosingLine(sum *Summary) string {
	line := fmt.Sprintf("%d passed, %d failed", sum.Passed, sum.Failed)
	if sum.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", sum.Skipped)
	}
	return line
}

// indent prefixes every line of s with prefix.
func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// textReporter writes for people.
type textReporter struct {
	w       io.Writer
	verbose bool
}

func (t *textReporter) fileStart(path string) {
	if t.verbose {
		fmt.Fprintf(t.w, "=== %s\n", path)
	}
}

func (t *textReporter) test(r *Result) {
	where := r.File
	if r.Line > 0 {
		where = fmt.Sprintf("%s:%d", r.File, r.Line)
	}
	switch {
	case r.Status == Failed:
		fmt.Fprintf(t.w, "FAIL %s (%s, %s)\n%s\n", r.Name, where, r.Duration.Round(time.Millisecond), indent(r.Message, "    "))
		if r.Output != "" {
			fmt.Fprintf(t.w, "    output:\n%s\n", indent(r.Output, "      "))
		}
	case !t.verbose:
	case r.Status == Skipped:
		fmt.Fprintf(t.w, "skip %s (%s): %s\n", r.Name, where, r.Message)
	default:
		fmt.Fprintf(t.w, "ok   %s (%s)\n", r.Name, r.Duration.Round(time.Millisecond))
		if r.Output != "" {
			fmt.Fprintf(t.w, "%s\n", indent(r.Output, "      "))
		}
	}
}

func (t *textReporter) note(path, s string) { fmt.Fprintf(t.w, "%s: %s\n", path, s) }

func (t *textReporter) listed(path string, tc *testCase) {
	fmt.Fprintf(t.w, "%s:%d: %s\n", path, tc.line, tc.full)
}

func (t *textReporter) fileEnd(fr *FileResult) {}

func (t *textReporter) end(sum *Summary) error {
	if sum.Interrupted {
		fmt.Fprintln(t.w, "interrupted")
	}
	fmt.Fprintln(t.w, ClosingLine(sum))
	return nil
}

// tapReporter writes TAP: "ok N - name", "not ok N - name" with the
// failure as # comments, "# SKIP reason" for skipped tests, and the plan
// at the end.
type tapReporter struct {
	w       io.Writer
	verbose bool
	n       int  // tests reported so far
	started bool // the version line is written
}

// start writes the version line, once.
func (t *tapReporter) start() {
	if !t.started {
		fmt.Fprintln(t.w, "TAP version 13")
		t.started = true
	}
}

func (t *tapReporter) fileStart(path string) { t.start() }

func (t *tapReporter) test(r *Result) {
	t.start()
	t.n++
	name := strings.NewReplacer("#", `\#`, "\n", " ").Replace(r.Name)
	switch r.Status {
	case Passed:
		fmt.Fprintf(t.w, "ok %d - %s\n", t.n, name)
	case Skipped:
		fmt.Fprintf(t.w, "ok %d - %s # SKIP %s\n", t.n, name, strings.ReplaceAll(r.Message, "\n", " "))
	default:
		fmt.Fprintf(t.w, "not ok %d - %s\n", t.n, name)
		fmt.Fprintf(t.w, "%s\n", indent(fmt.Sprintf("%s:%d\n%s", r.File, r.Line, r.Message), "# "))
	}
	if r.Output != "" && (r.Status == Failed || t.verbose) {
		fmt.Fprintf(t.w, "# output:\n%s\n", indent(r.Output, "#   "))
	}
}

func (t *tapReporter) note(path, s string) { fmt.Fprintf(t.w, "# %s: %s\n", path, s) }

func (t *tapReporter) listed(path string, tc *testCase) {
	fmt.Fprintf(t.w, "# %s:%d: %s\n", path, tc.line, tc.full)
}

func (t *tapReporter) fileEnd(fr *FileResult) {}

func (t *tapReporter) end(sum *Summary) error {
	t.start()
	fmt.Fprintf(t.w, "1..%d\n", t.n)
	if sum.Interrupted {
		fmt.Fprintln(t.w, "Bail out! interrupted")
	}
	fmt.Fprintf(t.w, "# %s\n", ClosingLine(sum))
	return nil
}

// jsonReporter writes one JSON object at the end (see jsonReport); its
// closing line goes to stderr, so that stdout is JSON only.
type jsonReporter struct {
	w, stderr io.Writer
	verbose   bool
}

type jsonReport struct {
	Passed     int        `json:"passed"`
	Failed     int        `json:"failed"`
	Skipped    int        `json:"skipped"`
	DurationMS float64    `json:"duration_ms"`
	Files      []jsonFile `json:"files"`
}

type jsonFile struct {
	Path       string     `json:"path"`
	Mode       string     `json:"mode,omitempty"`
	DurationMS float64    `json:"duration_ms"`
	Notes      []string   `json:"notes,omitempty"`
	Tests      []jsonTest `json:"tests"`
}

type jsonTest struct {
	*Result
	DurationMS float64 `json:"duration_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (j *jsonReporter) fileStart(string)         {}
func (j *jsonReporter) test(*Result)             {}
func (j *jsonReporter) note(string, string)      {}
func (j *jsonReporter) listed(string, *testCase) {}
func (j *jsonReporter) fileEnd(*FileResult)      {}
func (j *jsonReporter) end(sum *Summary) error {
	report := jsonReport{Passed: sum.Passed, Failed: sum.Failed, Skipped: sum.Skipped, DurationMS: ms(sum.Duration), Files: []jsonFile{}}
	for _, fr := range sum.Files {
		f := jsonFile{Path: fr.Path, Mode: fr.Mode, DurationMS: ms(fr.Duration), Notes: fr.Notes, Tests: []jsonTest{}}
		for _, r := range fr.Results {
			c := *r
			if c.Status != Failed && !j.verbose {
				c.Output = ""
			}
			f.Tests = append(f.Tests, jsonTest{Result: &c, DurationMS: ms(r.Duration)})
		}
		report.Files = append(report.Files, f)
	}
	enc := json.NewEncoder(j.w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(report); err != nil {
		return err
	}
	fmt.Fprintln(j.stderr, ClosingLine(sum))
	return nil
}

// junitReporter writes a JUnit XML file at the end: testsuites, one
// testsuite per file, one testcase per test with failure or skipped.
type junitReporter struct {
	path    string
	verbose bool
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
	SystemOut string      `xml:"system-out,omitempty"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

func (j *junitReporter) fileStart(string)         {}
func (j *junitReporter) test(*Result)             {}
func (j *junitReporter) note(string, string)      {}
func (j *junitReporter) listed(string, *testCase) {}
func (j *junitReporter) fileEnd(*FileResult)      {}

func (j *junitReporter) end(sum *Summary) error {
	doc := junitSuites{Name: "wps test", Tests: sum.Passed + sum.Failed + sum.Skipped, Failures: sum.Failed, Skipped: sum.Skipped, Time: seconds(sum.Duration)}
	for _, fr := range sum.Files {
		suite := junitSuite{Name: fr.Path, Time: seconds(fr.Duration), SystemOut: strings.Join(fr.Notes, "\n")}
		classname := strings.ReplaceAll(strings.TrimSuffix(filepath.ToSlash(fr.Path), ".lua"), "/", ".")
		for _, r := range fr.Results {
			c := junitCase{Name: r.Name, Classname: classname, Time: seconds(r.Duration), File: r.File, Line: r.Line}
			suite.Tests++
			switch r.Status {
			case Failed:
				suite.Failures++
				first, _, _ := strings.Cut(r.Message, "\n")
				c.Failure = &junitFailure{Message: first, Type: "failure", Text: r.Message}
			case Skipped:
				suite.Skipped++
				c.Skipped = &junitSkipped{Message: r.Message}
			}
			if r.Status == Failed || j.verbose {
				c.SystemOut = r.Output
			}
			suite.Cases = append(suite.Cases, c)
		}
		doc.Suites = append(doc.Suites, suite)
	}
	data, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	data = append([]byte(xml.Header), append(data, '\n')...)
	if err := os.WriteFile(j.path, data, 0o644); err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	return nil
}

// multiReporter sends every event to each reporter.
type multiReporter []reporter

func (m multiReporter) fileStart(p string) {
	for _, r := range m {
		r.fileStart(p)
	}
}

func (m multiReporter) test(res *Result) {
	for _, r := range m {
		r.test(res)
	}
}

func (m multiReporter) note(p, s string) {
	for _, r := range m {
		r.note(p, s)
	}
}

func (m multiReporter) listed(p string, tc *testCase) {
	for _, r := range m {
		r.listed(p, tc)
	}
}

func (m multiReporter) fileEnd(fr *FileResult) {
	for _, r := range m {
		r.fileEnd(fr)
	}
}

func (m multiReporter) end(sum *Summary) error {
	var first error
	for _, r := range m {
		if err := r.end(sum); err != nil && first == nil {
			first = err
		}
	}
	return first
}
