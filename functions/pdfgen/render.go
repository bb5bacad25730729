package pdfgen

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	qrcode "github.com/yeqown/go-qrcode/v2"
	"golang.org/x/text/encoding/charmap"

	"github.com/posluha/posluha"
)

// DejaVu Sans (Bitstream Vera licence, DejaVu changes public domain; see
// fonts/LICENSE) is embedded so that Ukrainian text renders the same on
// any machine and in the Lambda, with no font package installed. It is a
// Windows-1251 font definition made by fonts/mkfont: fpdf embeds it as
// it is, with no per-document parsing or subsetting.
var (
	//go:embed fonts/DejaVuSans-cp1251.json
	fontJSON []byte
	//go:embed fonts/DejaVuSans-cp1251.z
	fontZ []byte
)

// cp1251 maps the runes Windows-1251 has to their bytes.
var cp1251 = sync.OnceValue(func() map[rune]byte {
	m := make(map[rune]byte, 128)
	for b := 0x80; b < 0x100; b++ {
		if r := charmap.Windows1251.DecodeByte(byte(b)); r != utf8.RuneError {
			m[r] = byte(b)
		}
	}
	return m
})

// encode turns UTF-8 text into the font's Windows-1251 bytes. Ukrainian
// and Russian letters, Latin, №, «», dashes and quotes are all there;
// a few others get a close substitute, the rest "?".
func encode(s string) string {
	table := cp1251()
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x80:
			b = append(b, byte(r))
		case table[r] != 0:
			b = append(b, table[r])
		case r == '₴':
			b = append(b, table['г'], table['р'], table['н'])
		case r == '\u00A0' || r == '\u2009' || r == '\u202F':
			b = append(b, ' ')
		default:
			b = append(b, '?')
		}
	}
	return string(b)
}

// bold switches faux bold (text filled and stroked, PDF rendering mode 2)
// on or off: one embedded font instead of two keeps documents small.
func bold(pdf *fpdf.Fpdf, on bool) {
	if on {
		pdf.SetLineWidth(0.22)
		pdf.SetTextRenderingMode(2)
		return
	}
	pdf.SetTextRenderingMode(0)
	pdf.SetLineWidth(0.2)
}

// font sets the size and weight of the text that follows.
func font(pdf *fpdf.Fpdf, size float64, heavy bool) {
	pdf.SetFont("DejaVu", "", size)
	bold(pdf, heavy)
}

// Page holds what a rendered document shows besides the template's text.
type Page struct {
	Number    string
	IssuedAt  time.Time
	VerifyURL string // in the QR code and printed under it
	Fields    map[string]any
	Location  *time.Location // dates; Europe/Kyiv
}

// Render lays a template out as an A4 PDF: authority, title, number and
// date, paragraphs, table, closing text, a QR code to the public
// verification page, and a footer with page numbers on every page.
// Errors: Document.Template (the layout cannot be rendered).
func Render(t *Template, p Page) (out []byte, err error) {
	// fpdf panics on some inputs (it indexes width tables by rune); a
	// template or field value must give an error, never crash the function.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, posluha.Errorf(posluha.ErrDocumentTemplate, "render: %v", r)
		}
	}()
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	fields := map[string]any{}
	for k, v := range p.Fields {
		fields[k] = v
	}
	fields["number"] = p.Number
	fields["issuedAt"] = p.IssuedAt.In(loc).Format("02.01.2006")
	fields["verifyUrl"] = p.VerifyURL
	text := func(s string) string { return expand(s, fields, loc) } // UTF-8, for metadata
	x := func(s string) string { return encode(text(s)) }

	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(20, 18, 20)
	pdf.SetAutoPageBreak(true, 22)
	pdf.AddFontFromBytes("DejaVu", "", fontJSON, fontZ)
	pdf.SetTitle(text(t.Title), true)
	pdf.SetAuthor(text(t.Authority), true)
	pdf.SetCreator("Posluha", true)
	pdf.SetSubject(p.Number, true)
	pdf.SetCreationDate(p.IssuedAt)
	pdf.SetModificationDate(p.IssuedAt)
	pdf.AliasNbPages("{nb}")
	footer := x(t.Footer)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-18)
		font(pdf, 7.5, false)
		pdf.SetTextColor(90, 90, 90)
		if footer != "" {
			pdf.MultiCell(0, 3.5, footer, "T", "C", false)
		}
		pdf.CellFormat(0, 4, encode(fmt.Sprintf("№ %s — сторінка %d з ", p.Number, pdf.PageNo()))+"{nb}", "", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()

	if t.Authority != "" {
		font(pdf, 10, true)
		pdf.MultiCell(0, 5, x(t.Authority), "", "C", false)
		pdf.Ln(6)
	}
	font(pdf, 16, true)
	pdf.MultiCell(0, 8, x(t.Title), "", "C", false)
	if t.Subtitle != "" {
		font(pdf, 12, false)
		pdf.MultiCell(0, 6, x(t.Subtitle), "", "C", false)
	}
	pdf.Ln(3)
	font(pdf, 10, false)
	pdf.CellFormat(85, 6, encode("№ "+p.Number), "", 0, "L", false, 0, "")
	pdf.CellFormat(0, 6, encode("Дата видачі: "+fields["issuedAt"].(string)), "", 1, "R", false, 0, "")
	pdf.Ln(4)

	font(pdf, 11, false)
	for _, para := range t.Paragraphs {
		pdf.MultiCell(0, 6, x(para), "", "J", false)
		pdf.Ln(2)
	}
	if t.Table != nil {
		pdf.Ln(2)
		table(pdf, t.Table, x)
		pdf.Ln(4)
	}
	font(pdf, 11, false)
	for _, para := range t.Closing {
		pdf.MultiCell(0, 6, x(para), "", "J", false)
		pdf.Ln(2)
	}
	if p.VerifyURL != "" {
		if err := qr(pdf, p.VerifyURL, p.Number); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, posluha.Errorf(posluha.ErrDocumentTemplate, "render: %v", err)
	}
	return buf.Bytes(), nil
}

// table draws a bordered table whose rows grow to fit wrapped text and
// move whole to the next page when they do not fit.
func table(pdf *fpdf.Fpdf, t *Table, x func(string) string) {
	n := len(t.Header)
	if n == 0 && len(t.Rows) > 0 {
		n = len(t.Rows[0])
	}
	if n == 0 {
		return
	}
	left, _, right, _ := pdf.GetMargins()
	pageW, pageH := pdf.GetPageSize()
	_, _, _, bottom := pdf.GetMargins()
	total := pageW - left - right
	widths := make([]float64, n)
	var sum float64
	for i := range widths {
		widths[i] = 1
		if len(t.Widths) == n && t.Widths[i] > 0 {
			widths[i] = t.Widths[i]
		}
		sum += widths[i]
	}
	for i := range widths {
		widths[i] *= total / sum
	}
	const lineH, pad = 5.0, 1.5
	row := func(cells []string, header bool) {
		font(pdf, 10, header)
		lines := make([][]string, n)
		h := 0.0
		for i := range n {
			lines[i] = splitText(pdf, x(cells[i]), widths[i]-2*pad)
			h = max(h, float64(len(lines[i]))*lineH+2*pad)
		}
		if pdf.GetY()+h > pageH-bottom {
			pdf.AddPage()
		}
		y := pdf.GetY()
		cx := left
		for i := range n {
			if header {
				pdf.SetFillColor(235, 238, 245)
				pdf.Rect(cx, y, widths[i], h, "FD")
			} else {
				pdf.Rect(cx, y, widths[i], h, "D")
			}
			pdf.SetDrawColor(0, 0, 0) // faux-bold text strokes in black
			for j, l := range lines[i] {
				pdf.SetXY(cx+pad, y+pad+float64(j)*lineH)
				pdf.CellFormat(widths[i]-2*pad, lineH, l, "", 0, "L", false, 0, "")
			}
			pdf.SetDrawColor(120, 120, 120)
			cx += widths[i]
		}
		pdf.SetXY(left, y+h)
	}
	pdf.SetDrawColor(120, 120, 120)
	pdf.SetLineWidth(0.2)
	if len(t.Header) > 0 {
		row(t.Header, true)
	}
	for _, r := range t.Rows {
		row(r, false)
	}
	pdf.SetDrawColor(0, 0, 0)
}

// qrWriter draws the QR matrix as vector squares (no image encoding).
type qrWriter struct {
	pdf     *fpdf.Fpdf
	x, y, m float64
}

func (w *qrWriter) Write(mat qrcode.Matrix) error {
	w.pdf.SetFillColor(0, 0, 0)
	mat.Iterate(qrcode.IterDirection_ROW, func(cx, cy int, v qrcode.QRValue) {
		if v.IsSet() {
			w.pdf.Rect(w.x+float64(cx)*w.m, w.y+float64(cy)*w.m, w.m, w.m, "F")
		}
	})
	return nil
}

func (w *qrWriter) Close() error { return nil }

// qr puts the verification QR code with its caption at the end of the
// text, on a new page when there is no room.
func qr(pdf *fpdf.Fpdf, url, number string) error {
	code, err := qrcode.NewWith(url, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return posluha.Errorf(posluha.ErrDocumentTemplate, "qr code: %v", err)
	}
	const size = 32.0
	_, pageH := pdf.GetPageSize()
	_, _, _, bottom := pdf.GetMargins()
	if pdf.GetY()+size+4 > pageH-bottom {
		pdf.AddPage()
	}
	left, _, _, _ := pdf.GetMargins()
	y := pdf.GetY() + 4
	dim := code.Dimension()
	if dim == 0 {
		return posluha.Errorf(posluha.ErrDocumentTemplate, "qr code: empty")
	}
	if err := code.Save(&qrWriter{pdf: pdf, x: left, y: y, m: size / float64(dim)}); err != nil {
		return posluha.Errorf(posluha.ErrDocumentTemplate, "qr code: %v", err)
	}
	pdf.SetXY(left+size+5, y+4)
	font(pdf, 9, true)
	pdf.MultiCell(0, 4.5, encode("Перевірити справжність документа"), "", "L", false)
	pdf.SetX(left + size + 5)
	font(pdf, 8.5, false)
	pdf.MultiCell(0, 4.5, encode("Відскануйте QR-код або відкрийте посилання та введіть номер "+number+":"), "", "L", false)
	pdf.SetX(left + size + 5)
	pdf.SetTextColor(20, 60, 160)
	pdf.MultiCell(0, 4.5, encode(url), "", "L", false)
	pdf.SetTextColor(0, 0, 0)
	pdf.SetY(y + size + 2)
	return nil
}

// splitText wraps single-byte text to lines no wider than w (fpdf's
// SplitText reads UTF-8 only). Words wider than a line are cut.
func splitText(pdf *fpdf.Fpdf, s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			try := word
			if line != "" {
				try = line + " " + word
			}
			if pdf.GetStringWidth(try) <= w {
				line = try
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			for pdf.GetStringWidth(word) > w && len(word) > 1 {
				n := len(word) - 1
				for n > 1 && pdf.GetStringWidth(word[:n]) > w {
					n--
				}
				lines = append(lines, word[:n])
				word = word[n:]
			}
			line = word
		}
		lines = append(lines, line)
	}
	return lines
}
