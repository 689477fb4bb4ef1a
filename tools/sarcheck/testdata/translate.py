"""Prints, for each template given, the logical IDs and types of the resources the SAM
translator generates, as JSON: {"<template>": {"<LogicalId>": "<Type>"}}. sarcheck's
tests compare them with sarcheck's own model of the SAM transform. Local code paths are
replaced by s3:// URLs first, as `sam validate` does, since the translator accepts
only those."""
import json
import sys

from samtranslator.parser import parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse


def translate(path):
    with open(path) as f:
        template = yaml_parse(f.read())
    for resource in template.get("Resources", {}).values():
        props = resource.setdefault("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and "InlineCode" not in props:
            props["CodeUri"] = "s3://bucket/code.zip"
        if resource.get("Type") == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://bucket/layer.zip"
    translator = Translator(managed_policy_map={}, sam_parser=parser.Parser(), plugins=[])
    out = translator.translate(template, parameter_values={})
    return {k: v["Type"] for k, v in out["Resources"].items()}


json.dump({path: translate(path) for path in sys.argv[1:]}, sys.stdout, indent=1, sort_keys=True)
