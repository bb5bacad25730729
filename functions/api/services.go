package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/posluha/posluha"
)

// serviceSummary is a catalogue line.
type serviceSummary struct {
	ID     string                `json:"id"`
	Title  posluha.Text          `json:"title"`
	Status posluha.ServiceStatus `json:"status"`
	Owner  string                `json:"owner,omitempty"`
}

func (h *Handler) listServices(w http.ResponseWriter, r *http.Request) {
	want := posluha.ServiceStatus(r.URL.Query().Get("status"))
	out := []serviceSummary{}
	for _, s := range h.catalog.list {
		if want != "" && s.Status != want {
			continue
		}
		out = append(out, serviceSummary{ID: s.ID, Title: s.Title, Status: s.Status, Owner: s.Owner})
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, struct {
		Items []serviceSummary `json:"items"`
	}{out})
}

func (h *Handler) service(w http.ResponseWriter, r *http.Request) *posluha.Service {
	e := h.catalog.byID[r.PathValue("serviceId")]
	if e == nil {
		h.writeError(w, r, problemf(posluha.ErrApplicationNotFound, posluha.Text{UK: "Такої послуги немає", EN: "No such service"}))
		return nil
	}
	return e.svc
}

func (h *Handler) getService(w http.ResponseWriter, r *http.Request) {
	if s := h.service(w, r); s != nil {
		w.Header().Set("Cache-Control", "public, max-age=60")
		writeJSON(w, http.StatusOK, struct {
			serviceSummary
			Form               map[string]any `json:"form,omitempty"`
			OneOpenApplication bool           `json:"oneOpenApplication"`
		}{serviceSummary{s.ID, s.Title, s.Status, s.Owner}, s.Form, s.OneOpenApplication})
	}
}

func (h *Handler) getForm(w http.ResponseWriter, r *http.Request) {
	if s := h.service(w, r); s != nil {
		form := s.Form
		if form == nil {
			form = map[string]any{"type": "object"}
		}
		b, err := json.Marshal(form)
		if err != nil {
			h.writeError(w, r, fmt.Errorf("form schema of %s: %w", s.ID, err))
			return
		}
		w.Header().Set("Content-Type", "application/schema+json")
		w.Write(b)
	}
}
