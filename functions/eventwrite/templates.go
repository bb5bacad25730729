package eventwrite

import (
	"strings"

	"github.com/posluha/posluha"
)

// Template is the text of one kind of notification. {applicationId},
// {service}, {status} and {reason} are replaced; nothing else is, so a
// template never pulls personal data from the form.
type Template struct {
	Title posluha.Text
	Body  posluha.Text
}

// defaultTemplates are the notification texts by template id (the BPMN task's
// template header). An id missing here is sent with the id as its text:
// a missing text must not stop an application.
var defaultTemplates = map[string]Template{
	"registry-delay": {
		Title: posluha.Text{UK: "Реєстр тимчасово недоступний", EN: "A registry is temporarily unavailable"},
		Body: posluha.Text{UK: "Заява {applicationId} залишається в роботі: ми повторимо запит автоматично, щойно реєстр запрацює.",
			EN: "Application {applicationId} is still in progress: we will retry automatically as soon as the registry is back."},
	},
	"registered": {
		Title: posluha.Text{UK: "Місце проживання зареєстровано", EN: "Your residence is registered"},
		Body: posluha.Text{UK: "Заяву {applicationId} виконано. Довідка доступна в застосунку.",
			EN: "Application {applicationId} is complete. The certificate is available in the app."},
	},
	"fop-registered": {
		Title: posluha.Text{UK: "Вас зареєстровано як ФОП", EN: "You are registered as a sole proprietor"},
		Body: posluha.Text{UK: "Заяву {applicationId} виконано. Виписка з ЄДР доступна в застосунку.",
			EN: "Application {applicationId} is complete. The extract from the Unified State Register is available in the app."},
	},
	"payout-sent": {
		Title: posluha.Text{UK: "Допомогу перераховано", EN: "The payment is on its way"},
		Body: posluha.Text{UK: "За заявою {applicationId} кошти перераховано на ваш рахунок.",
			EN: "The money for application {applicationId} has been sent to your account."},
	},
	"action-required": {
		Title: posluha.Text{UK: "Потрібна ваша дія", EN: "Your action is needed"},
		Body: posluha.Text{UK: "Заява {applicationId} чекає на вашу відповідь у застосунку.",
			EN: "Application {applicationId} is waiting for your answer in the app."},
	},
	"consent-requested": {
		Title: posluha.Text{UK: "Потрібна згода співвласника", EN: "A co-owner's consent is needed"},
		Body: posluha.Text{UK: "Заява {applicationId} чекає на підпис згоди співвласником.",
			EN: "Application {applicationId} is waiting for a co-owner to sign the consent."},
	},
	"rejected": {
		Title: posluha.Text{UK: "Заяву відхилено", EN: "Your application was rejected"},
		Body: posluha.Text{UK: "Заяву {applicationId} відхилено. Причина: {reason}.",
			EN: "Application {applicationId} was rejected. Reason: {reason}."},
	},
	"status-changed": {
		Title: posluha.Text{UK: "Стан заяви змінено", EN: "Your application's status changed"},
		Body:  posluha.Text{UK: "Заява {applicationId}: {status}.", EN: "Application {applicationId}: {status}."},
	},
}

// DefaultTemplates returns a copy of the built-in notification texts.
func DefaultTemplates() map[string]Template {
	out := make(map[string]Template, len(defaultTemplates))
	for k, v := range defaultTemplates {
		out[k] = v
	}
	return out
}

// statusNames are the statuses as citizens read them.
var statusNames = map[posluha.Status]posluha.Text{
	posluha.StatusSubmitted:  {UK: "подано", EN: "submitted"},
	posluha.StatusProcessing: {UK: "в роботі", EN: "in progress"},
	posluha.StatusWaiting:    {UK: "очікує на вашу дію", EN: "waiting for you"},
	posluha.StatusDone:       {UK: "виконано", EN: "done"},
	posluha.StatusRejected:   {UK: "відхилено", EN: "rejected"},
	posluha.StatusFailed:     {UK: "технічна помилка, служба підтримки вже працює", EN: "technical failure, support is on it"},
	posluha.StatusCancelled:  {UK: "скасовано", EN: "cancelled"},
}

// render fills a template for one application. An unknown id renders as
// the id itself.
func render(templates map[string]Template, id string, a *posluha.Application, reason string) (title, body posluha.Text) {
	t, ok := templates[id]
	if !ok {
		t = Template{Title: posluha.Text{UK: id, EN: id}, Body: posluha.Text{UK: id, EN: id}}
	}
	st := statusNames[a.Status]
	fill := func(s string, en bool) string {
		status := st.UK
		if en {
			status = st.EN
		}
		return strings.NewReplacer("{applicationId}", a.ID, "{service}", a.Service,
			"{status}", status, "{reason}", reason).Replace(s)
	}
	return posluha.Text{UK: fill(t.Title.UK, false), EN: fill(t.Title.EN, true)},
		posluha.Text{UK: fill(t.Body.UK, false), EN: fill(t.Body.EN, true)}
}
