package localenv

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/streamlake/streamlake/internal/localrun"
)

// SaveSession records in dir, for the other commands and the user's tools,
// which emulator serves each service (endpoints), the local stack's outputs and
// how the template was read, with function the one whose Kinesis mapping the run
// emulates (package localrun). Queue outputs get the emulator's queue URLs of res.
func (e *Env) SaveSession(dir string, endpoints map[string]string, res *Resources, function string) error {
	path, err := filepath.Abs(e.Template.Path)
	if err != nil {
		return fmt.Errorf("save local run state: %w", err)
	}
	s := localrun.Session{
		Endpoints: endpoints,
		Region:    e.Template.Region,
		StackName: e.Template.StackName,
		Outputs:   map[string]string{},
		Template: &localrun.Template{
			Path:      path,
			ConfigEnv: e.opts.ConfigEnv,
			Overrides: e.opts.Overrides,
			Function:  function,
		},
	}
	queueByName := map[string]string{}
	for _, u := range res.Queues {
		queueByName[u[strings.LastIndexByte(u, '/')+1:]] = u
	}
	for name, v := range e.Template.Outputs {
		str, ok := v.(string)
		if !ok {
			str = fmt.Sprint(v)
		}
		if strings.HasPrefix(str, "https://sqs.") {
			if u, ok := queueByName[str[strings.LastIndexByte(str, '/')+1:]]; ok {
				str = u
			}
		}
		s.Outputs[name] = str
	}
	return localrun.Save(dir, s)
}
