package sfnapi

import "context"

type testStateInput struct {
	Definition      string `json:"definition"`
	RoleArn         string `json:"roleArn"`
	Input           string `json:"input"`
	InspectionLevel string `json:"inspectionLevel"`
	RevealSecrets   bool   `json:"revealSecrets"`
	Variables       string `json:"variables"`
}

type testStateOutput struct {
	Output    *string `json:"output,omitempty"`
	Error     *string `json:"error,omitempty"`
	Cause     *string `json:"cause,omitempty"`
	NextState string  `json:"nextState,omitempty"`
	Status    string  `json:"status"`
}

func (s *Server) testState(ctx context.Context, in *testStateInput) (*testStateOutput, error) {
	return nil, errf("ValidationException", "TestState is not implemented yet")
}
