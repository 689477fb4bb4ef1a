package pipeline

import (
	"fmt"
	"strings"

	"github.com/streamlake/streamlake/internal/localenv"
	"github.com/streamlake/streamlake/internal/localrun"
)

// saveSession records, for the other commands and the user's tools, which
// emulator serves each service and the local stack's outputs (package localrun).
// Queue outputs get the emulator's queue URLs.
func saveSession(dir string, lenv *localenv.Env, endpoints map[string]string, res *localenv.Resources) error {
	s := localrun.Session{
		Endpoints: endpoints,
		Region:    lenv.Template.Region,
		StackName: lenv.Template.StackName,
		Outputs:   map[string]string{},
	}
	queueByName := map[string]string{}
	for _, u := range res.Queues {
		queueByName[u[strings.LastIndexByte(u, '/')+1:]] = u
	}
	for name, v := range lenv.Template.Outputs {
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
