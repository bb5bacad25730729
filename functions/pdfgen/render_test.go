package pdfgen_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posluha/posluha/functions/pdfgen"
)

var issued = time.Date(2026, 11, 26, 12, 30, 0, 0, time.UTC)

func mustTemplate(tb testing.TB, service, id string) *pdfgen.Template {
	tb.Helper()
	t, err := pdfgen.LoadTemplate(os.DirFS("../../statemachines"), service, id)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func certificatePage() pdfgen.Page {
	return pdfgen.Page{
		Number: "EP-7K3M-9QX2-HT4A", IssuedAt: issued, VerifyURL: "https://posluha.example.gov.ua/verify/EP-7K3M-9QX2-HT4A",
		Fields: map[string]any{"name": "Шевченко Тарас Григорович", "address": "м. Київ, вул. Хрещатик, буд. 1, кв. 12",
			"registeredAt": "2026-11-25T09:00:00Z", "record": "РТГ-2026-000123"},
		Location: kyiv(),
	}
}

func kyiv() *time.Location {
	l, _ := time.LoadLocation("Europe/Kyiv")
	return l
}

func TestRenderCertificate(t *testing.T) {
	pdf, err := pdfgen.Render(mustTemplate(t, "e-propyska", "certificate"), certificatePage())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:16])
	}
	if out := os.Getenv("PDFGEN_OUT"); out != "" {
		os.WriteFile(out, pdf, 0o644)
	}
	// A reader gets the Ukrainian text back (pdftotext: Debian poppler-utils).
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed (Debian package poppler-utils)")
	}
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	text, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	for _, want := range []string{"ДОВІДКА", "Шевченко Тарас Григорович", "м. Київ, вул. Хрещатик, буд. 1, кв. 12", "25.11.2026", "№ EP-7K3M-9QX2-HT4A", "Дата видачі: 26.11.2026", "сторінка 1 з 1"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
}

func TestEncodeFallbacks(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ґанок їжака", "Ґанок їжака"},
		{"100 ₴", "100 грн"},
		{"日本", "??"},
	}
	for _, tc := range tests {
		tmpl := &pdfgen.Template{Title: tc.in}
		pdf, err := pdfgen.Render(tmpl, pdfgen.Page{Number: "D-0000-0000-0000", IssuedAt: issued})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Skip("pdftotext not installed")
		}
		cmd := exec.Command("pdftotext", "-", "-")
		cmd.Stdin = bytes.NewReader(pdf)
		text, _ := cmd.Output()
		if !strings.Contains(string(text), tc.want) {
			t.Errorf("Render(%q) text %q, want %q", tc.in, text, tc.want)
		}
	}
}

// twoPages is the benchmark document: the certificate with a table long
// enough to take two pages.
func twoPages(tb testing.TB) *pdfgen.Template {
	t := *mustTemplate(tb, "e-propyska", "certificate")
	tab := *t.Table
	for range 30 {
		tab.Rows = append(tab.Rows, []string{"Попередня адреса", "{{address}}"})
	}
	t.Table = &tab
	return &t
}

func BenchmarkRenderTwoPages(b *testing.B) {
	t := twoPages(b)
	p := certificatePage()
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := pdfgen.Render(t, p); err != nil {
			b.Fatal(err)
		}
	}
	reportPerCore(b, cpu, "pdfs")
}

// cpuTime is the process's CPU time so far: benchmarks report work per
// CPU-second, which stays meaningful on a shared, busy machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPerCore reports unit/s of wall time and unit per CPU-second (one
// core fully busy) since start.
func reportPerCore(b *testing.B, start time.Duration, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit+"/s")
	if used := cpuTime() - start; used > 0 {
		b.ReportMetric(float64(b.N)/used.Seconds(), unit+"/cpu-s")
	}
}

func FuzzRender(f *testing.F) {
	for _, name := range []string{"e-propyska/certificate.yaml", "fop-registration/extract.yaml"} {
		b, err := os.ReadFile("../../statemachines/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "Шевченко")
	}
	f.Add([]byte("title: '{{name}}'\ntable:\n  widths: [0, -1]\n  rows: [[a, b]]\n"), "\x00\xff")
	f.Fuzz(func(t *testing.T, yaml []byte, name string) {
		tmpl, err := pdfgen.ParseTemplate(yaml)
		if err != nil {
			return
		}
		pdf, err := pdfgen.Render(tmpl, pdfgen.Page{Number: "D-0000-0000-0000", IssuedAt: issued, Fields: map[string]any{"name": name}})
		if err == nil && !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatal("Render returned no PDF and no error")
		}
	})
}

func TestFieldFormats(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{"2026-11-25", "25.11.2026"},
		{"2026-11-25T23:30:00Z", "26.11.2026"}, // Kyiv is UTC+2
		{float64(3), "3"},
		{map[string]any{"city": "Київ", "street": "Хрещатик"}, "Київ, Хрещатик"},
		{nil, "—"},
		{true, "так"},
	}
	for _, tc := range tests {
		tmpl := &pdfgen.Template{Title: "T", Paragraphs: []string{"[{{v}}]"}}
		pdf, err := pdfgen.Render(tmpl, pdfgen.Page{Number: "D-0000-0000-0000", IssuedAt: issued, Fields: map[string]any{"v": tc.v}, Location: kyiv()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Skip("pdftotext not installed")
		}
		cmd := exec.Command("pdftotext", "-", "-")
		cmd.Stdin = bytes.NewReader(pdf)
		text, _ := cmd.Output()
		if !strings.Contains(string(text), "["+tc.want+"]") {
			t.Errorf("field %v printed as %q, want [%s]", tc.v, text, tc.want)
		}
	}
}
