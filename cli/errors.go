package cli

// hintError is an error together with what to do about it, for the person
// at the terminal. Hints live here, in the CLI, never in library errors.
type hintError struct {
	err  error
	hint string
}

// withHint attaches a next step to err. An empty hint returns err as is.
func withHint(err error, hint string) error {
	if err == nil || hint == "" {
		return err
	}
	return &hintError{err: err, hint: hint}
}

func (e *hintError) Error() string { return e.err.Error() + "\nhint: " + e.hint }

func (e *hintError) Unwrap() error { return e.err }
