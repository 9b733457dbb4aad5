"""assignkit: autograded PyTorch homework kit."""

import sys

# nbformat imports jsonschema, which imports rfc3987_syntax when it is installed (jupyter-events pulls it in) to
# check the "iri" string format; that module compiles a grammar when imported, which takes as long as importing
# torch (benchmarks/README.md), in every grader process. nbformat never asks for format checks, so the kit's
# processes see the module as absent and jsonschema goes without that one check.
sys.modules.setdefault("rfc3987_syntax", None)
