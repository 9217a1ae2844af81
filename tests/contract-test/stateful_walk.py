"""Schemathesis hook for tests/contract-test/run.sh's stateful phase.

Appends "<operation> <status>" (for example `POST /orders 201`) for every
answer to the file named by STATEFUL_WALK_LOG, so run.sh can check that the
phase walked the whole hold-to-order chain with success answers. Loaded
through SCHEMATHESIS_HOOKS; it only observes, never changes a request.
"""

import os

import schemathesis


@schemathesis.hook
def after_call(context, case, response):
    with open(os.environ["STATEFUL_WALK_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{case.operation.label} {response.status_code}\n")
