package localenv

import (
	"fmt"
	"strings"

	"github.com/streamlake/streamlake/internal/localrun"
)

// SaveSession records in dir, for the other commands and the user's tools,
// which emulator serves each service (endpoints) and the local stack's outputs
// (package localrun). Queue outputs get the emulator's queue URLs of res.
func (e *Env) SaveSession(dir string, endpoints map[string]string, res *Resources) error {
	s := localrun.Session{
		Endpoints: endpoints,
		Region:    e.Template.Region,
		StackName: e.Template.StackName,
		Outputs:   map[string]string{},
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
