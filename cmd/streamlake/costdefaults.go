package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

// costDefaults are the settings `cost` takes from the template when no flag sets
// them: what `sam deploy` would deploy (template defaults, then samconfig.toml's
// parameter_overrides, then --parameter-overrides), read from the resolved
// resources rather than from parameter names, so that a changed template is
// priced as it is.
type costDefaults struct {
	BatchSize   int
	Window      float64
	MemoryMB    int
	Compression string
	// Shards is the stream's ShardCount; 0 with OnDemand.
	Shards   int
	OnDemand bool
}

// readCostDefaults resolves the template and reads the Kinesis function's event
// source mapping, memory and compression, and the stream's capacity.
func readCostDefaults(tf *templateFlags) (costDefaults, error) {
	var d costDefaults
	if _, err := os.Stat(tf.path); err != nil {
		return d, fmt.Errorf("read the template's defaults: %w (pass --template, or run in the project's directory)", err)
	}
	tpl, _, err := tf.load()
	if err != nil {
		return d, err
	}
	ev, _, err := pickKinesisEvent(tpl, "", "")
	if err != nil {
		return d, err
	}
	fn, _ := tpl.Function(ev.Function)
	intProp := func(props map[string]any, name string, def int) (int, error) {
		v, ok := props[name]
		if !ok {
			return def, nil
		}
		n, err := strconv.Atoi(fmt.Sprint(v))
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %v is not an integer", tpl.Path, name, v)
		}
		return n, nil
	}
	// Lambda's defaults for a Kinesis mapping: BatchSize 100, no window
	// (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html).
	if d.BatchSize, err = intProp(ev.Properties, "BatchSize", 100); err != nil {
		return d, err
	}
	window, err := intProp(ev.Properties, "MaximumBatchingWindowInSeconds", 0)
	if err != nil {
		return d, err
	}
	d.Window = float64(window)
	d.MemoryMB = fn.MemorySize
	if d.MemoryMB == 0 {
		d.MemoryMB = 128 // Lambda's default
	}
	d.Compression = fn.Environment["COMPRESSION"]
	if d.Compression == "" {
		d.Compression = "gzip" // the processor's default
	}
	var streams []samtemplate.Resource
	for _, r := range tpl.Resources {
		if r.Type == "AWS::Kinesis::Stream" {
			streams = append(streams, r)
		}
	}
	if len(streams) != 1 {
		return d, fmt.Errorf("%s: %d AWS::Kinesis::Stream resources; cost prices exactly one (pass --shards or --on-demand)", tpl.Path, len(streams))
	}
	props := streams[0].Properties
	if md, ok := props["StreamModeDetails"].(map[string]any); ok && fmt.Sprint(md["StreamMode"]) == "ON_DEMAND" {
		d.OnDemand = true
		return d, nil
	}
	if d.Shards, err = intProp(props, "ShardCount", 1); err != nil {
		return d, err
	}
	return d, nil
}
