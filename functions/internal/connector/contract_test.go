package connector_test

// Contract tests: the connector against the Trembita simulator, one table
// per dialect. The simulator is a test-only dependency; production code in
// functions/ never imports local/.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/local/registries"
	"github.com/posluha/posluha/query/value"
)

// startSim runs the simulator on 127.0.0.1:0.
func startSim(t testing.TB, seed uint64) (*registries.Sim, string) {
	t.Helper()
	sim := registries.New(registries.Options{Seed: seed})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

// env points every shipped connector at the simulator.
func env(url string) func(string) string {
	return func(name string) string {
		switch name {
		case "POSLUHA_REGISTRY_URL":
			return url
		case "POSLUHA_USR_URL":
			return url + "/rest/usr"
		case "POSLUHA_NOTIFY_URL":
			return url + "/rest/notify"
		}
		return ""
	}
}

// mustSet builds a connector set from template sources (one per string).
func mustSet(t testing.TB, url string, srcs ...string) *connector.Set {
	t.Helper()
	var ts []*connector.Template
	for i, src := range srcs {
		parsed, err := connector.Parse(fmt.Sprintf("test%d.yaml", i), []byte(src))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		ts = append(ts, parsed...)
	}
	set, err := connector.New(ts, connector.Options{Getenv: env(url)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return set
}

// rawTemplates are mapping-free connectors, one per dialect and service,
// so that classification is tested apart from JSONata.
func rawTemplates(timeout string) []string {
	head := func(id, proto string) string {
		return "id: " + id + "\nprotocol: " + proto + "\nendpoint: http://127.0.0.1:1\nendpointEnv: POSLUHA_REGISTRY_URL\nclient: UA/GOV/44444444/POSLUHA\ntimeout: " + timeout + "\n"
	}
	return []string{
		head("drrp.xrest", "xroad-rest") + "service: UA/GOV/00015622/DRRP/realtyRights\npath: /{taxNumber}\n",
		head("drrp.uxp", "uxp-rest") + "service: UA/GOV/00015622/DRRP/realtyRights/v1\npath: /uxp/{taxNumber}\n",
		head("drrp.soap", "xroad-soap") + "service: UA/GOV/00015622/DRRP/realtyRights/v1\nsoap: {namespace: 'urn:drrp', operation: realtyRights, arrays: [properties, coOwners]}\n",
		head("drrp.rest", "rest") + "path: /rest/drrp/realtyRights/{taxNumber}\n",
		head("treasury.soap", "xroad-soap") + "write: true\nservice: UA/GOV/37567646/DKSU/payment/v1\nsoap: {namespace: 'urn:dksu', operation: payment}\n",
		head("treasury.xrest", "xroad-rest") + "write: true\nservice: UA/GOV/37567646/DKSU/payment\n",
	}
}

var dialects = []string{"drrp.xrest", "drrp.uxp", "drrp.soap", "drrp.rest"}

func nameOf(err error) string { return posluha.ErrorName(err) }

func TestDialectContracts(t *testing.T) {
	owner := registries.Citizens()[0]
	unknown := registries.TaxNumber(time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), 1, true)
	hour := time.Now().Add(-time.Minute)
	tests := []struct {
		name    string
		profile registries.Profile
		tax     string
		want    string // error name, "" for success
	}{
		{"success", registries.Profile{}, owner.TaxNumber, ""},
		{"not found", registries.Profile{}, unknown, posluha.ErrRegistryNotFound},
		{"bad request", registries.Profile{}, "1234567890", posluha.ErrRegistryBadRequest},
		{"server error", registries.Profile{ErrorRate: 1}, owner.TaxNumber, posluha.ErrRegistryUnavailable},
		{"down", registries.Profile{Down: true}, owner.TaxNumber, posluha.ErrRegistryUnavailable},
		{"maintenance window", registries.Profile{Maintenance: []registries.Window{{From: hour, To: hour.Add(time.Hour)}}}, owner.TaxNumber, posluha.ErrRegistryUnavailable},
		{"past maintenance", registries.Profile{Maintenance: []registries.Window{{From: hour.Add(-time.Hour), To: hour}}}, owner.TaxNumber, ""},
		{"timeout", registries.Profile{Latency: registries.Latency{Min: registries.Duration(2 * time.Second)}}, owner.TaxNumber, posluha.ErrRegistryUnavailable},
		{"malformed body", registries.Profile{MalformedRate: 1}, owner.TaxNumber, posluha.ErrRegistryBadResponse},
	}
	sim, url := startSim(t, 1)
	set := mustSet(t, url, rawTemplates("600ms")...)
	for _, tc := range tests {
		for _, id := range dialects {
			t.Run(tc.name+"/"+id, func(t *testing.T) {
				if err := sim.SetProfile("drrp", tc.profile); err != nil {
					t.Fatal(err)
				}
				got, err := set.Call(context.Background(), id, connector.Args{ApplicationID: "app-1", Step: "Activity_read", Arguments: map[string]any{"taxNumber": tc.tax}}, "")
				if nameOf(err) != tc.want {
					t.Fatalf("Call = %v, %v; want error %q", value.String(got), err, tc.want)
				}
				if tc.want != "" {
					if strings.Contains(err.Error(), tc.tax) {
						t.Errorf("error %q holds the tax number", err)
					}
					return
				}
				o, ok := got.(*value.Object)
				if !ok {
					t.Fatalf("Call = %s, want an object", value.String(got))
				}
				if name, _ := o.Get("name"); name != owner.FullName() {
					t.Errorf("name = %v, want %s", name, owner.FullName())
				}
				props, _ := o.Get("properties")
				list, _ := props.([]any)
				if len(list) != 1 {
					t.Fatalf("properties = %s, want one", value.String(props))
				}
				co, _ := list[0].(*value.Object).Get("coOwners")
				if cl, _ := co.([]any); len(cl) != 1 {
					t.Errorf("coOwners = %s, want one co-owner", value.String(co))
				}
			})
		}
	}
}

func TestUnknownServiceIsAnXRoadError(t *testing.T) {
	_, url := startSim(t, 1)
	src := "id: x.y\nprotocol: %s\nendpoint: %s\nclient: UA/GOV/44444444/POSLUHA\nservice: UA/GOV/00015622/DRRP/noSuchService/v1\n%s"
	for _, tc := range []struct{ proto, extra string }{
		{"xroad-rest", ""}, {"uxp-rest", "path: /uxp\n"}, {"xroad-soap", "soap: {namespace: 'urn:x', operation: op}\n"},
	} {
		set := mustSet(t, url, fmt.Sprintf(src, tc.proto, url, tc.extra))
		_, err := set.Call(context.Background(), "x.y", connector.Args{ApplicationID: "a"}, "")
		if nameOf(err) != posluha.ErrRegistryUnavailable || !strings.Contains(err.Error(), "Server.ServerProxy.UnknownService") {
			t.Errorf("%s: Call error = %v, want Registry.Unavailable naming Server.ServerProxy.UnknownService", tc.proto, err)
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	set := mustSet(t, "http://"+addr, rawTemplates("1s")...)
	for _, id := range dialects {
		_, err := set.Call(context.Background(), id, connector.Args{Arguments: map[string]any{"taxNumber": "1"}}, "")
		if nameOf(err) != posluha.ErrRegistryUnavailable || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: Call error = %v, want Registry.Unavailable (connection refused)", id, err)
		}
	}
}

func TestWriteNeedsKey(t *testing.T) {
	_, url := startSim(t, 1)
	set := mustSet(t, url, rawTemplates("1s")...)
	_, err := set.Call(context.Background(), "treasury.soap", connector.Args{Arguments: map[string]any{"amount": 10}}, "")
	if nameOf(err) != posluha.ErrTaskInvalid {
		t.Errorf("Call without a key = %v, want Task.Invalid", err)
	}
	_, err = set.Call(context.Background(), "no.such", connector.Args{}, "")
	if nameOf(err) != posluha.ErrTaskInvalid {
		t.Errorf("Call of an unknown connector = %v, want Task.Invalid", err)
	}
}

const iban = "UA213223130000026007233566001"

func paymentArgs(app string) connector.Args {
	return connector.Args{ApplicationID: app, Service: "covid-aid", Step: "Activity_pay",
		Arguments: map[string]any{"iban": iban, "amount": 6500, "purpose": "Допомога на період карантину"}}
}

func TestPaymentIsIdempotent(t *testing.T) {
	for _, id := range []string{"treasury.soap", "treasury.xrest"} {
		t.Run(id, func(t *testing.T) {
			sim, url := startSim(t, 1)
			set := mustSet(t, url, rawTemplates("1s")...)
			first, err := set.Call(context.Background(), id, paymentArgs("app-7"), "app-7/Activity_pay")
			if err != nil {
				t.Fatal(err)
			}
			again, err := set.Call(context.Background(), id, paymentArgs("app-7"), "app-7/Activity_pay")
			if err != nil {
				t.Fatal(err)
			}
			if !value.Equal(first, again) {
				t.Errorf("repeated payment = %s, want the first answer %s", value.String(again), value.String(first))
			}
			if n := sim.EffectivePayments(); n != 1 {
				t.Errorf("EffectivePayments = %d, want 1", n)
			}
			other := paymentArgs("app-7")
			other.Arguments["amount"] = 1
			_, err = set.Call(context.Background(), id, other, "app-7/Activity_pay")
			if nameOf(err) != posluha.ErrRegistryBadRequest {
				t.Errorf("same key, different order = %v, want Registry.BadRequest", err)
			}
		})
	}
}

func TestConcurrencyCap(t *testing.T) {
	sim, url := startSim(t, 1)
	sim.SetProfile("drrp", registries.Profile{Latency: registries.Latency{Min: registries.Duration(20 * time.Millisecond)}})
	srcs := rawTemplates("5s")
	srcs[0] += "concurrency: 3\n"
	set := mustSet(t, url, srcs...)
	tax := registries.Citizens()[0].TaxNumber
	var wg sync.WaitGroup
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// drrp.uxp shares the registry (and so the cap) with drrp.xrest.
			id := dialects[i%2]
			if _, err := set.Call(context.Background(), id, connector.Args{Arguments: map[string]any{"taxNumber": tax}}, ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if st := sim.Stats("drrp"); st.MaxInFlight > 3 || st.Requests != 24 {
		t.Errorf("registry saw %d requests, at most %d in flight; want 24, ≤ 3", st.Requests, st.MaxInFlight)
	}
}

func TestRateLimit(t *testing.T) {
	sim, url := startSim(t, 1)
	const rate, burst, n = 100.0, 4, 30
	srcs := rawTemplates("5s")
	srcs[0] += fmt.Sprintf("rateLimit: {perSecond: %v, burst: %d}\n", rate, burst)
	set := mustSet(t, url, srcs...)
	tax := registries.Citizens()[0].TaxNumber
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := set.Call(context.Background(), "drrp.xrest", connector.Args{Arguments: map[string]any{"taxNumber": tax}}, ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	arr := sim.Stats("drrp").Arrivals
	sort.Slice(arr, func(i, j int) bool { return arr[i].Before(arr[j]) })
	if len(arr) != n {
		t.Fatalf("registry saw %d calls, want %d", len(arr), n)
	}
	// Seen from the registry, the k-th call cannot come before the bucket
	// refilled k+1-burst tokens since the start. Delays only make calls
	// later, so load on the test machine never breaks this bound.
	for k := burst; k < len(arr); k++ {
		min := time.Duration(float64(k+1-burst) / rate * float64(time.Second))
		if got := arr[k].Sub(start); got < min {
			t.Fatalf("call %d arrived %s after the start, want ≥ %s at %v/s burst %d", k, got, min, rate, burst)
		}
	}
}

// TestOutage: the treasury is down while a batch of 50 applications pays;
// a retry loop stands in for Step Functions Retry. All complete once it is
// back, and each payment is made exactly once, although some answers were
// lost to timeouts after the payment was made.
func TestOutage(t *testing.T) {
	shipped, err := os.ReadFile("../../../connectors/treasury.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The shipped payment connector, mappings and limits included, with a
	// timeout short enough that slow answers are lost after the payment.
	mapped := strings.NewReplacer("timeout: 10s", "timeout: 150ms", "perSecond: 20", "perSecond: 500").Replace(string(shipped))
	for _, id := range []string{"treasury.soap", "treasury.xrest", "treasury.payment"} {
		t.Run(id, func(t *testing.T) {
			sim, url := startSim(t, 42)
			set := mustSet(t, url, append(rawTemplates("150ms"), mapped)...)
			sim.SetProfile("treasury", registries.Profile{
				Down:    true,
				Latency: registries.Latency{Max: registries.Duration(10 * time.Millisecond), SlowRate: 0.1, Slow: registries.Duration(300 * time.Millisecond)},
			})
			const apps = 50
			var wg sync.WaitGroup
			results := make([]any, apps)
			errs := make([]error, apps)
			for i := 0; i < apps; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					app := fmt.Sprintf("app-%03d", i)
					for attempt := 0; attempt < 400; attempt++ {
						res, err := set.Call(context.Background(), id, paymentArgs(app), app+"/Activity_pay")
						if nameOf(err) == posluha.ErrRegistryUnavailable {
							time.Sleep(5 * time.Millisecond)
							continue
						}
						results[i], errs[i] = res, err
						return
					}
					errs[i] = errors.New("retries exhausted")
				}()
			}
			// Bring the registry back once it has refused a good share of calls.
			for sim.Stats("treasury").Refused < 2*apps {
				time.Sleep(2 * time.Millisecond)
			}
			sim.SetDown("treasury", false)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("application %d: %v", i, err)
				}
			}
			ids := map[string]bool{}
			for _, r := range results {
				if o, ok := r.(*value.Object); ok {
					pid, _ := o.Get("paymentId")
					ids[fmt.Sprint(pid)] = true
				}
			}
			st := sim.Stats("treasury")
			if n := sim.EffectivePayments(); n != apps || len(ids) != apps {
				t.Errorf("EffectivePayments = %d, distinct payment ids %d; want %d", n, len(ids), apps)
			}
			t.Logf("requests %d, refused %d, replays %d, effective payments %d", st.Requests, st.Refused, st.Replays, sim.EffectivePayments())
		})
	}
}

// TestShippedConnectors loads connectors/*.yaml as the Lambdas do and runs
// each mapping against the simulator's seeded data.
func TestShippedConnectors(t *testing.T) {
	ts, err := connector.LoadFS(os.DirFS("../../../connectors"), ".")
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	_, url := startSim(t, 1)
	set, err := connector.New(ts, connector.Options{Getenv: env(url)})
	if err != nil {
		t.Fatal(err)
	}
	cs := registries.Citizens()
	tests := []struct {
		id   string
		args map[string]any
		key  string
		want string // JSON of the mapped response, or an error name
	}{
		{"drrp.realty-rights", map[string]any{"taxNumber": cs[7].TaxNumber}, "", `{"owner":"Лисенко Софія Андріївна","properties":[]}`},
		{"drrp.realty-rights", map[string]any{"taxNumber": cs[2].TaxNumber}, "", `{"owner":"Бондаренко Андрій Вікторович","properties":[{"reestrNum":"2398114680000","kind":"земельна ділянка","address":"Київська обл., Бучанський р-н, кадастровий номер 3222486200:03:001:0045","area":1000,"share":"1/1","coOwners":[]},{"reestrNum":"3344556680000","kind":"квартира","address":"м. Харків, просп. Науки, буд. 40, кв. 88","area":48,"share":"1/1","coOwners":[]}]}`},
		{"drrp.property-owners", map[string]any{"reestrNum": "1852963280000"}, "", `{"reestrNum":"1852963280000","kind":"квартира","address":"м. Київ, вул. Хрещатик, буд. 22, кв. 5","area":64.3,"owners":[{"taxNumber":"` + cs[0].TaxNumber + `","name":"Шевченко Тарас Григорович","share":"1/2"},{"taxNumber":"` + cs[5].TaxNumber + `","name":"Олійник Наталія Михайлівна","share":"1/2"}]}`},
		{"drrp.property-owners", map[string]any{"reestrNum": "0000000000000"}, "", posluha.ErrRegistryNotFound},
		{"military.status", map[string]any{"taxNumber": cs[4].TaxNumber}, "", `{"registered":true,"category":"призовник","tck":"Соборний РТЦК та СП"}`},
		{"military.register", map[string]any{"taxNumber": cs[1].TaxNumber, "tck": "Личаківський РТЦК та СП"}, "app-1/Activity_reg", `{"recordId":"MIL-000001","registered":true,"date":"` + time.Now().UTC().Format(time.DateOnly) + `"}`},
		{"military.status", map[string]any{"taxNumber": "1234567890"}, "", posluha.ErrRegistryBadRequest},
		{"migration.residence", map[string]any{"taxNumber": cs[3].TaxNumber}, "", `{"address":"м. Одеса, вул. Дерибасівська, буд. 7, кв. 3","registeredAt":"2015-06-01"}`},
		{"migration.register-residence", map[string]any{"taxNumber": cs[3].TaxNumber, "address": "м. Київ, вул. Саксаганського, буд. 1"}, "app-2/Activity_res", `{"recordId":"RES-000002","registeredAt":"` + time.Now().UTC().Format(time.DateOnly) + `"}`},
		{"tax.fop-status", map[string]any{"taxNumber": cs[6].TaxNumber}, "", `{"registered":true,"group":2,"kved":"47.11 Роздрібна торгівля"}`},
		{"tax.register-fop", map[string]any{"taxNumber": cs[6].TaxNumber, "kved": "62.01"}, "app-3/Activity_fop", posluha.ErrRegistryBadRequest},
		{"usr.entry", map[string]any{"code": 41234567}, "", `{"code":"41234567","name":"ТОВ «Зелений гай»","kind":"ТОВ","status":"зареєстровано","founders":[{"name":"Шевченко Тарас Григорович","share":"60%","taxNumber":"` + cs[0].TaxNumber + `"},{"name":"Олійник Наталія Михайлівна","share":"40%","taxNumber":"` + cs[5].TaxNumber + `"}]}`},
		{"usr.entry", map[string]any{"code": "99999999"}, "", posluha.ErrRegistryNotFound},
		{"treasury.payment", map[string]any{"iban": iban, "amount": 6500, "purpose": "Допомога"}, "app-4/Activity_pay", `{"paymentId":"PAY-000003","status":"executed","amount":6500}`},
		{"treasury.payment-status", map[string]any{"paymentId": "PAY-000003"}, "", `{"paymentId":"PAY-000003","status":"executed","amount":6500}`},
		{"notify.send", map[string]any{"taxNumber": cs[0].TaxNumber, "channel": "push", "text": "Вашу заяву прийнято"}, "app-5/Activity_notify", `{"messageId":"MSG-000004","status":"queued"}`},
		{"notify.send", map[string]any{"taxNumber": cs[0].TaxNumber, "channel": "pigeon", "text": "x"}, "app-5/Activity_notify2", posluha.ErrRegistryBadRequest},
		{"military.deregister", map[string]any{"taxNumber": cs[0].TaxNumber, "reason": "за станом здоров'я"}, "app-6/Activity_dereg", `{"recordId":"MIL-000005","registered":false,"date":"` + time.Now().UTC().Format(time.DateOnly) + `"}`},
		{"military.status", map[string]any{"taxNumber": cs[0].TaxNumber}, "", `{"registered":false,"category":"знятий з обліку"}`},
		{"tax.register-fop", map[string]any{"taxNumber": cs[7].TaxNumber, "kved": "85.59 Інші види освіти", "group": "2"}, "app-7/Activity_fop", `{"recordId":"FOP-000006","since":"` + time.Now().UTC().Format(time.DateOnly) + `"}`},
		{"usr.entry", map[string]any{"code": cs[7].TaxNumber}, "", `{"code":"` + cs[7].TaxNumber + `","name":"ФОП Лисенко Софія Андріївна","kind":"ФОП","status":"зареєстровано"}`},
		{"treasury.payment", map[string]any{"iban": iban, "amount": 6500, "purpose": "Допомога"}, "app-4/Activity_pay", `{"paymentId":"PAY-000003","status":"executed","amount":6500}`},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			got, err := set.Call(context.Background(), tc.id, connector.Args{ApplicationID: "app", Step: "s", Arguments: tc.args}, tc.key)
			if strings.Contains(tc.want, ".") && !strings.HasPrefix(tc.want, "{") {
				if nameOf(err) != tc.want {
					t.Errorf("Call(%s) = %s, %v; want %s", tc.id, value.String(got), err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Call(%s) error: %v", tc.id, err)
			}
			want, _ := value.ParseString(tc.want)
			if !value.Equal(got, want) {
				t.Errorf("Call(%s) =\n%s\nwant\n%s", tc.id, value.String(got), tc.want)
			}
		})
	}
}

// TestRegistryCapacity: a registry that serves 3 calls at once refuses the
// rest as busy (Registry.Unavailable, retryable); the connector's
// concurrency cap keeps a burst within what it serves.
func TestRegistryCapacity(t *testing.T) {
	tax := registries.Citizens()[0].TaxNumber
	for _, capped := range []bool{false, true} {
		for _, id := range dialects {
			t.Run(fmt.Sprintf("%s/capped=%v", id, capped), func(t *testing.T) {
				sim, url := startSim(t, 1)
				sim.SetProfile("drrp", registries.Profile{Capacity: 3, Latency: registries.Latency{Min: registries.Duration(15 * time.Millisecond)}})
				srcs := rawTemplates("5s")
				if capped {
					for i := range srcs[:4] {
						srcs[i] += "concurrency: 3\n"
					}
				}
				set := mustSet(t, url, srcs...)
				var wg sync.WaitGroup
				var mu sync.Mutex
				unavailable := 0
				for i := 0; i < 24; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := set.Call(context.Background(), id, connector.Args{Arguments: map[string]any{"taxNumber": tax}}, "")
						if err != nil && nameOf(err) != posluha.ErrRegistryUnavailable {
							t.Errorf("Call = %v, want success or Registry.Unavailable", err)
						}
						if err != nil {
							mu.Lock()
							unavailable++
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				st := sim.Stats("drrp")
				if int64(unavailable) != st.Refused {
					t.Errorf("%d calls Unavailable, registry refused %d", unavailable, st.Refused)
				}
				if capped && (unavailable != 0 || st.MaxInFlight > 3) {
					t.Errorf("capped: %d refused, %d in flight at most; want 0, ≤ 3", unavailable, st.MaxInFlight)
				}
				t.Logf("refused %d of 24, max in flight %d", unavailable, st.MaxInFlight)
			})
		}
	}
}

// TestThrottled: a call whose turn under the registry's limit would come
// after its deadline is not made and fails as Registry.Throttled (which
// compiled state machines retry for long), not Registry.Unavailable.
func TestThrottled(t *testing.T) {
	sim, url := startSim(t, 1)
	srcs := rawTemplates("5s")
	srcs[0] += "rateLimit: {perSecond: 1, burst: 1}\n"
	set := mustSet(t, url, srcs...)
	args := connector.Args{Arguments: map[string]any{"taxNumber": registries.Citizens()[0].TaxNumber}}
	if _, err := set.Call(context.Background(), "drrp.xrest", args, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := set.Call(ctx, "drrp.xrest", args, "")
	if posluha.ErrorName(err) != posluha.ErrRegistryThrottled {
		t.Fatalf("second call within the second = %v, want Registry.Throttled", err)
	}
	if n := sim.Stats("drrp").Requests; n != 1 {
		t.Errorf("registry saw %d calls, want 1 (a throttled call is not made)", n)
	}
}
