// Command mkfont builds the font files pdfgen embeds:
//
//	go run ./functions/pdfgen/fonts/mkfont
//
// From DejaVuSans.ttf (already cut down to Latin, Cyrillic and the usual
// punctuation with fontTools: see ../README) it writes DejaVuSans-cp1251.json
// (metrics) and DejaVuSans-cp1251.z (the compressed font), the definition
// fpdf loads with AddFontFromBytes. A single-byte Windows-1251 font (all
// Ukrainian letters, №, «», dashes) is embedded as it is, so rendering a
// document does no per-document font parsing or subsetting — the UTF-8 path
// of fpdf spent two thirds of a certificate's time there.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	"golang.org/x/text/encoding/charmap"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkfont:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := "functions/pdfgen/fonts"
	tmp, err := os.MkdirTemp("", "mkfont")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// MakeFont reads the target encoding's map and cp1252's (to compute
	// the differences).
	for name, cm := range map[string]*charmap.Charmap{"cp1251": charmap.Windows1251, "cp1252": charmap.Windows1252} {
		if err := os.WriteFile(filepath.Join(tmp, name+".map"), []byte(encodingMap(cm)), 0o644); err != nil {
			return err
		}
	}
	mapFile := filepath.Join(tmp, "cp1251.map")
	src := filepath.Join(tmp, "DejaVuSans-cp1251.ttf")
	ttf, err := os.ReadFile(filepath.Join(dir, "DejaVuSans.ttf"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(src, ttf, 0o644); err != nil {
		return err
	}
	return fpdf.MakeFont(src, mapFile, dir, os.Stderr, true)
}

// encodingMap writes fpdf's map format: "!<byte> U+<code point> <glyph>".
func encodingMap(cm *charmap.Charmap) string {
	var m strings.Builder
	for b := range 256 {
		r := cm.DecodeByte(byte(b))
		if r == utf8.RuneError || b < 0x20 || b == 0x7F {
			fmt.Fprintf(&m, "!%02X U+0000 .notdef\n", b)
			continue
		}
		fmt.Fprintf(&m, "!%02X U+%04X uni%04X\n", b, r, r)
	}
	return m.String()
}
