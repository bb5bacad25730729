package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/posluha/posluha/local/scenario"
)

// Diagrams returns a Deps.Diagram that reads <dir>/<service>/process.bpmn
// and, when the model has no diagram interchange, lays it out with npm
// bpmn-auto-layout (node, from nodeModules' parent). Layouts are cached
// until the file changes. A missing service is os.ErrNotExist.
func Diagrams(dir, nodeModules string) func(ctx context.Context, service string) ([]byte, error) {
	type cached struct {
		mod time.Time
		xml []byte
	}
	var (
		mu    sync.Mutex
		cache = map[string]cached{}
	)
	return func(ctx context.Context, service string) ([]byte, error) {
		if service == "" || service != filepath.Base(service) || service[0] == '.' {
			return nil, fmt.Errorf("service %q: %w", service, os.ErrNotExist)
		}
		path := filepath.Join(dir, service, "process.bpmn")
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("diagram of %s: %w", service, err)
		}
		mu.Lock()
		c, ok := cache[service]
		mu.Unlock()
		if ok && c.mod.Equal(st.ModTime()) {
			return c.xml, nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("diagram of %s: %w", service, err)
		}
		xml, err := scenario.Diagram(ctx, src, nodeModules)
		if err != nil {
			return nil, fmt.Errorf("diagram of %s: %w", service, err)
		}
		mu.Lock()
		cache[service] = cached{st.ModTime(), xml}
		mu.Unlock()
		return xml, nil
	}
}

// BPMNJS is bpmn-js's dist folder under nodeModules (support.Deps.BPMNJS);
// "" when nodeModules is "" (npm ci has not run).
func BPMNJS(nodeModules string) string {
	if nodeModules == "" {
		return ""
	}
	return filepath.Join(nodeModules, "bpmn-js", "dist")
}
