package registries

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Citizen is a test citizen the simulated registries know. All of them are
// invented; the tax numbers are well-formed but belong to no one.
type Citizen struct {
	TaxNumber  string `json:"taxNumber"`
	LastName   string `json:"lastName"`
	FirstName  string `json:"firstName"`
	MiddleName string `json:"middleName"`
	BirthDate  string `json:"birthDate"`
	Male       bool   `json:"male"`
	Address    string `json:"address"`
}

// FullName is "Прізвище Ім'я По батькові".
func (c Citizen) FullName() string { return c.LastName + " " + c.FirstName + " " + c.MiddleName }

type citizenSeed struct {
	last, first, middle string
	birth               string
	serial              int
	male                bool
	address             string
}

var citizenSeeds = []citizenSeed{
	{"Шевченко", "Тарас", "Григорович", "1985-03-09", 121, true, "м. Київ, вул. Хрещатик, буд. 22, кв. 5"},
	{"Коваленко", "Олена", "Петрівна", "1990-07-21", 342, false, "м. Львів, вул. Городоцька, буд. 15, кв. 12"},
	{"Бондаренко", "Андрій", "Вікторович", "1978-11-02", 57, true, "м. Харків, просп. Науки, буд. 40, кв. 88"},
	{"Ткаченко", "Марія", "Іванівна", "1995-01-15", 610, false, "м. Одеса, вул. Дерибасівська, буд. 7, кв. 3"},
	{"Кравченко", "Олександр", "Сергійович", "2001-05-30", 233, true, "м. Дніпро, просп. Яворницького, буд. 101, кв. 41"},
	{"Олійник", "Наталія", "Михайлівна", "1982-09-12", 418, false, "м. Київ, вул. Хрещатик, буд. 22, кв. 5"},
	{"Мельник", "Ігор", "Васильович", "1969-12-25", 75, true, "м. Вінниця, вул. Соборна, буд. 63, кв. 9"},
	{"Лисенко", "Софія", "Андріївна", "2004-08-08", 904, false, "м. Полтава, вул. Соборності, буд. 18, кв. 27"},
}

// Citizens returns the seeded test citizens.
func Citizens() []Citizen {
	out := make([]Citizen, len(citizenSeeds))
	for i, s := range citizenSeeds {
		b, _ := time.Parse(time.DateOnly, s.birth) // constant data, checked by a test
		out[i] = Citizen{
			TaxNumber: TaxNumber(b, s.serial, s.male), LastName: s.last, FirstName: s.first, MiddleName: s.middle,
			BirthDate: s.birth, Male: s.male, Address: s.address,
		}
	}
	return out
}

// property is an object of the real-estate rights register.
type property struct {
	ReestrNum string
	Kind      string
	Address   string
	Area      float64
	Owners    []share // by citizen index
}

type share struct {
	citizen int
	part    string
}

// state is the registries' data. Every field is guarded by Sim.mu.
type state struct {
	citizens   []Citizen
	byTax      map[string]int
	properties []property
	military   map[string]map[string]any // taxNumber → record
	residence  map[string]map[string]any
	fop        map[string]map[string]any
	usr        map[string]map[string]any // code → entry
	payments   []map[string]any
	outbox     []map[string]any
	seq        int
	now        func() time.Time
}

func newState(now func() time.Time) *state {
	cs := Citizens()
	st := &state{
		citizens: cs, byTax: map[string]int{},
		military: map[string]map[string]any{}, residence: map[string]map[string]any{},
		fop: map[string]map[string]any{}, usr: map[string]map[string]any{}, now: now,
	}
	for i, c := range cs {
		st.byTax[c.TaxNumber] = i
		st.residence[c.TaxNumber] = map[string]any{
			"taxNumber": c.TaxNumber, "address": c.Address, "registeredAt": "2015-06-01", "authority": "ЦНАП",
		}
	}
	st.properties = []property{
		{"1852963280000", "квартира", "м. Київ, вул. Хрещатик, буд. 22, кв. 5", 64.3, []share{{0, "1/2"}, {5, "1/2"}}},
		{"2398114680000", "земельна ділянка", "Київська обл., Бучанський р-н, кадастровий номер 3222486200:03:001:0045", 1000, []share{{2, "1/1"}}},
		{"1122334446101", "житловий будинок", "Львівська обл., с. Брюховичі, вул. Лісна, буд. 4", 142.5, []share{{1, "2/3"}, {3, "1/3"}}},
		{"3344556680000", "квартира", "м. Харків, просп. Науки, буд. 40, кв. 88", 48.0, []share{{2, "1/1"}}},
	}
	for _, i := range []int{0, 2} {
		st.military[cs[i].TaxNumber] = map[string]any{"taxNumber": cs[i].TaxNumber, "registered": true, "category": "військовозобов'язаний", "tck": "Печерський РТЦК та СП"}
	}
	st.military[cs[4].TaxNumber] = map[string]any{"taxNumber": cs[4].TaxNumber, "registered": true, "category": "призовник", "tck": "Соборний РТЦК та СП"}
	st.military[cs[6].TaxNumber] = map[string]any{"taxNumber": cs[6].TaxNumber, "registered": false, "category": "знятий з обліку за віком", "tck": "Вінницький ОТЦК та СП"}
	for _, f := range []struct {
		i           int
		group, kved string
	}{{2, "3", "62.01 Комп'ютерне програмування"}, {6, "2", "47.11 Роздрібна торгівля"}} {
		c := cs[f.i]
		st.fop[c.TaxNumber] = map[string]any{"taxNumber": c.TaxNumber, "registered": true, "group": f.group, "kved": f.kved, "since": "2019-04-01"}
		st.usr[c.TaxNumber] = map[string]any{"code": c.TaxNumber, "kind": "ФОП", "name": "ФОП " + c.FullName(), "status": "зареєстровано", "address": c.Address}
	}
	st.usr["41234567"] = map[string]any{"code": "41234567", "kind": "ТОВ", "name": "ТОВ «Зелений гай»", "status": "зареєстровано",
		"address": "м. Київ, вул. Січових Стрільців, буд. 10", "founders": []any{
			map[string]any{"name": cs[0].FullName(), "taxNumber": cs[0].TaxNumber, "share": "60%"},
			map[string]any{"name": cs[5].FullName(), "taxNumber": cs[5].TaxNumber, "share": "40%"},
		}}
	st.usr["38765432"] = map[string]any{"code": "38765432", "kind": "ГО", "name": "ГО «Волонтери Полтавщини»", "status": "зареєстровано",
		"address": "м. Полтава, вул. Соборності, буд. 1"}
	return st
}

// bizError is a provider's refusal: the registry answered, and said no.
type bizError struct {
	status int    // 400, 404, 409
	code   string // SOAP faultcode (Client.*), or "" for NotFound
	msg    string
}

func notFound(what string) *bizError { return &bizError{status: 404, msg: what + " not found"} }
func invalid(format string, a ...any) *bizError {
	return &bizError{status: 400, code: "Client.InvalidRequest", msg: fmt.Sprintf(format, a...)}
}

// handler runs one registry service on its arguments, with Sim.mu held.
type handler func(st *state, args map[string]any) (map[string]any, *bizError)

func str(args map[string]any, name string) string {
	switch v := args[name].(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func (st *state) citizen(args map[string]any) (Citizen, *bizError) {
	tax := str(args, "taxNumber")
	if !ValidTaxNumber(tax) {
		return Citizen{}, &bizError{status: 400, code: "Client.InvalidTaxNumber", msg: "taxNumber is not a valid RNOKPP"}
	}
	i, ok := st.byTax[tax]
	if !ok {
		return Citizen{}, notFound("person")
	}
	return st.citizens[i], nil
}

func (st *state) nextID(prefix string) string {
	st.seq++
	return fmt.Sprintf("%s-%06d", prefix, st.seq)
}

func (st *state) today() string { return st.now().UTC().Format(time.DateOnly) }

func (st *state) ownerList(p property) []any {
	owners := make([]any, len(p.Owners))
	for i, sh := range p.Owners {
		c := st.citizens[sh.citizen]
		owners[i] = map[string]any{"taxNumber": c.TaxNumber, "name": c.FullName(), "share": sh.part}
	}
	return owners
}

func realtyRights(st *state, args map[string]any) (map[string]any, *bizError) {
	c, err := st.citizen(args)
	if err != nil {
		return nil, err
	}
	props := []any{}
	for _, p := range st.properties {
		for _, sh := range p.Owners {
			if st.citizens[sh.citizen].TaxNumber != c.TaxNumber {
				continue
			}
			co := []any{}
			for _, o := range st.ownerList(p) {
				if o.(map[string]any)["taxNumber"] != c.TaxNumber {
					co = append(co, o)
				}
			}
			props = append(props, map[string]any{"reestrNum": p.ReestrNum, "kind": p.Kind, "address": p.Address,
				"area": p.Area, "share": sh.part, "coOwners": co})
		}
	}
	return map[string]any{"taxNumber": c.TaxNumber, "name": c.FullName(), "properties": props}, nil
}

func propertyOwners(st *state, args map[string]any) (map[string]any, *bizError) {
	num := str(args, "reestrNum")
	if num == "" {
		return nil, invalid("reestrNum is required")
	}
	for _, p := range st.properties {
		if p.ReestrNum == num {
			return map[string]any{"reestrNum": p.ReestrNum, "kind": p.Kind, "address": p.Address, "area": p.Area, "owners": st.ownerList(p)}, nil
		}
	}
	return nil, notFound("property")
}

func militaryStatus(st *state, args map[string]any) (map[string]any, *bizError) {
	c, err := st.citizen(args)
	if err != nil {
		return nil, err
	}
	if r, ok := st.military[c.TaxNumber]; ok {
		return r, nil
	}
	return map[string]any{"taxNumber": c.TaxNumber, "registered": false, "category": "не перебуває на обліку"}, nil
}

func militaryRegister(register bool) handler {
	return func(st *state, args map[string]any) (map[string]any, *bizError) {
		c, err := st.citizen(args)
		if err != nil {
			return nil, err
		}
		tck := str(args, "tck")
		if register && tck == "" {
			return nil, invalid("tck is required")
		}
		rec := map[string]any{"taxNumber": c.TaxNumber, "registered": register, "recordId": st.nextID("MIL"), "date": st.today()}
		if register {
			rec["category"], rec["tck"] = "військовозобов'язаний", tck
		} else {
			rec["category"] = "знятий з обліку"
			rec["reason"] = str(args, "reason")
		}
		st.military[c.TaxNumber] = rec
		return rec, nil
	}
}

func residence(st *state, args map[string]any) (map[string]any, *bizError) {
	c, err := st.citizen(args)
	if err != nil {
		return nil, err
	}
	if r, ok := st.residence[c.TaxNumber]; ok {
		return r, nil
	}
	return nil, notFound("residence")
}

func registerResidence(st *state, args map[string]any) (map[string]any, *bizError) {
	c, err := st.citizen(args)
	if err != nil {
		return nil, err
	}
	addr := str(args, "address")
	if len([]rune(addr)) < 10 {
		return nil, invalid("address is required")
	}
	rec := map[string]any{"taxNumber": c.TaxNumber, "address": addr, "registeredAt": st.today(), "recordId": st.nextID("RES"), "authority": "Дія"}
	st.residence[c.TaxNumber] = rec
	return rec, nil
}

func fopStatus(st *state, args map[string]any) (map[string]any, *bizError) {
	c, err := st.citizen(args)
	if err != nil && err.status == 404 {
		// Beyond the seeded citizens the tax service knows a whole
		// population (the load generator's 900k applicants): a stable
		// quarter are not sole proprietors, the rest are in groups 1–3.
		return populationFOP(str(args, "taxNumber")), nil
	}
	if err != nil {
		return nil, err
	}
	if r, ok := st.fop[c.TaxNumber]; ok {
		return r, nil
	}
	return map[string]any{"taxNumber": c.TaxNumber, "registered": false}, nil
}

func registerFop(st *state, args map[string]any) (map[string]any, *bizError) {
	c, err := st.citizen(args)
	if err != nil {
		return nil, err
	}
	kved := str(args, "kved")
	if kved == "" {
		return nil, invalid("kved is required")
	}
	if r, ok := st.fop[c.TaxNumber]; ok && r["registered"] == true {
		return nil, &bizError{status: 409, code: "Client.AlreadyRegistered", msg: "already a sole proprietor"}
	}
	group := str(args, "group")
	if group == "" {
		group = "3"
	}
	rec := map[string]any{"taxNumber": c.TaxNumber, "registered": true, "group": group, "kved": kved, "since": st.today(), "recordId": st.nextID("FOP")}
	st.fop[c.TaxNumber] = rec
	st.usr[c.TaxNumber] = map[string]any{"code": c.TaxNumber, "kind": "ФОП", "name": "ФОП " + c.FullName(), "status": "зареєстровано", "address": c.Address}
	return rec, nil
}

func usrEntry(st *state, args map[string]any) (map[string]any, *bizError) {
	code := str(args, "code")
	if len(code) != 8 && len(code) != 10 {
		return nil, invalid("code is an 8-digit EDRPOU or a 10-digit RNOKPP")
	}
	if r, ok := st.usr[code]; ok {
		return r, nil
	}
	return nil, notFound("entry")
}

func payment(st *state, args map[string]any) (map[string]any, *bizError) {
	iban := strings.ReplaceAll(str(args, "iban"), " ", "")
	if len(iban) != 29 || !strings.HasPrefix(iban, "UA") {
		return nil, invalid("iban must be a Ukrainian IBAN (UA + 27 characters)")
	}
	amount, ok := args["amount"].(float64)
	if !ok {
		if a, err := strconv.ParseFloat(str(args, "amount"), 64); err == nil {
			amount, ok = a, true
		}
	}
	if !ok || amount <= 0 || amount > 1e6 {
		return nil, invalid("amount must be a positive number of hryvnias up to 1000000")
	}
	p := map[string]any{"paymentId": st.nextID("PAY"), "status": "executed", "amount": amount, "currency": "UAH",
		"iban": iban, "purpose": str(args, "purpose"), "executedAt": st.now().UTC().Format(time.RFC3339)}
	st.payments = append(st.payments, p)
	return p, nil
}

func paymentStatus(st *state, args map[string]any) (map[string]any, *bizError) {
	id := str(args, "paymentId")
	for _, p := range st.payments {
		if p["paymentId"] == id {
			return p, nil
		}
	}
	return nil, notFound("payment")
}

func notify(st *state, args map[string]any) (map[string]any, *bizError) {
	c, err := st.citizen(args)
	if err != nil {
		return nil, err
	}
	ch := str(args, "channel")
	switch ch {
	case "":
		ch = "push"
	case "push", "email", "sms", "inbox":
	default:
		return nil, invalid("channel must be push, email, sms or inbox")
	}
	text := str(args, "text")
	if text == "" {
		return nil, invalid("text is required")
	}
	m := map[string]any{"messageId": st.nextID("MSG"), "status": "queued", "channel": ch, "taxNumber": c.TaxNumber, "text": text, "queuedAt": st.now().UTC().Format(time.RFC3339)}
	st.outbox = append(st.outbox, m)
	return map[string]any{"messageId": m["messageId"], "status": "queued", "channel": ch}, nil
}

// service is one service of a simulated registry.
type service struct {
	code    string
	write   bool
	needKey bool   // refuses writes without an idempotency key
	pathArg string // the argument a trailing path segment fills
	run     handler
}

// registryDef is a simulated registry behind the security server.
type registryDef struct {
	code     string // drrp, military, …
	title    string
	instance string
	class    string
	member   string
	sub      string
	services map[string]*service
}

func (r *registryDef) serviceID(code string) string {
	return r.instance + "/" + r.class + "/" + r.member + "/" + r.sub + "/" + code
}

func defineRegistries() []*registryDef {
	reg := func(code, title, member, sub string, svcs ...*service) *registryDef {
		r := &registryDef{code: code, title: title, instance: "UA", class: "GOV", member: member, sub: sub, services: map[string]*service{}}
		for _, s := range svcs {
			r.services[s.code] = s
		}
		return r
	}
	return []*registryDef{
		reg("drrp", "Державний реєстр речових прав на нерухоме майно", "00015622", "DRRP",
			&service{code: "realtyRights", pathArg: "taxNumber", run: realtyRights},
			&service{code: "propertyOwners", pathArg: "reestrNum", run: propertyOwners}),
		reg("military", "Єдиний державний реєстр призовників, військовозобов'язаних та резервістів", "00034022", "OBERIH",
			&service{code: "status", pathArg: "taxNumber", run: militaryStatus},
			&service{code: "register", write: true, run: militaryRegister(true)},
			&service{code: "deregister", write: true, run: militaryRegister(false)}),
		reg("migration", "Державна міграційна служба: реєстрація місця проживання", "37508470", "DMS",
			&service{code: "residence", pathArg: "taxNumber", run: residence},
			&service{code: "registerResidence", write: true, run: registerResidence}),
		reg("tax", "Державна податкова служба: фізичні особи — підприємці", "43005393", "DPS",
			&service{code: "fopStatus", pathArg: "taxNumber", run: fopStatus},
			&service{code: "registerFop", write: true, run: registerFop}),
		reg("usr", "Єдиний державний реєстр юридичних осіб, ФОП та громадських формувань", "00015622", "EDR",
			&service{code: "entry", pathArg: "code", run: usrEntry}),
		reg("treasury", "Державна казначейська служба: платежі", "37567646", "DKSU",
			&service{code: "payment", write: true, needKey: true, run: payment},
			&service{code: "paymentStatus", pathArg: "paymentId", run: paymentStatus}),
		reg("notify", "Сповіщення громадян", "43220275", "NOTIFY",
			&service{code: "send", write: true, run: notify}),
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// populationFOP is the tax service's record of an unseeded person, derived
// from the tax number so that every run agrees.
func populationFOP(tax string) map[string]any {
	sum := 0
	for _, d := range tax {
		sum += int(d - '0')
	}
	if sum%4 == 0 {
		return map[string]any{"taxNumber": tax, "registered": false}
	}
	return map[string]any{"taxNumber": tax, "registered": true, "group": strconv.Itoa(sum % 4), "kved": "47.11 Роздрібна торгівля", "since": "2020-01-01"}
}
