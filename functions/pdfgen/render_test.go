package pdfgen_test

import (
	"bytes"
	"os"
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
