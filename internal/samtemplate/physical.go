package samtemplate

import "fmt"

// PhysicalName returns the name a DefaultResolver for this template's stack gives
// the resource logicalID: its name property when set, else
// "<StackName>-<LogicalID>" adjusted to the service's naming rules. A local pipeline
// uses it to create the resource in an emulator under the name the rest of the
// template refers to.
func (t *Template) PhysicalName(logicalID string) (string, error) {
	res, ok := t.Resources[logicalID]
	if !ok {
		return "", fmt.Errorf("resource %s is not in the template (or its condition is false)", logicalID)
	}
	d := DefaultResolver{StackName: t.StackName, Region: t.Region, AccountID: t.AccountID, Partition: t.Partition}
	return d.PhysicalName(ResourceRef{
		LogicalID: res.LogicalID,
		Type:      res.Type,
		prop: func(name string) (any, bool, error) {
			v, ok := res.Properties[name]
			return v, ok, nil
		},
	})
}
