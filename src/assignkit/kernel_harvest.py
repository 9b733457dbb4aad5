"""Runs INSIDE the student's kernel: saves what a question declares, in forms the grader loads safely.

The grader sends this file's text into the kernel, followed by one `harvest(...)` call. It must stay
self-contained (torch, numpy, json and os only) and never import assignkit. Everything it writes is loaded
back in the grader with `torch.load(weights_only=True)` or `json.load`; nothing is pickled.

Why an artifact was refused is written as a message id (English, marked with `N_` for the kit's catalog) and
its parameters, beside the English text, so that the grader shows it in the student's language.
"""

import json
import os

MAX_ELEMENTS = 5_000_000  # per artifact: far above any answer in the homework, far below a disk bomb
MAX_DEPTH = 6
LAYER_TYPES = ("Linear", "ReLU", "Sigmoid", "Tanh", "Identity")


def N_(message):
    """Marks a message id for the kit's catalog, as assignkit.i18n.N_ does (this file cannot import it)."""
    return message


class Refused(Exception):
    """An object the harvest will not save: `message` is the message id, `params` its parameters."""

    def __init__(self, message, **params):
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


def harvest(namespace, plan, out_dir):
    import torch

    os.makedirs(out_dir, exist_ok=True)
    manifest = {}
    for item in plan:
        name, kind = item["name"], item["kind"]
        try:
            if name not in namespace:
                raise Refused(N_("{name} is not defined: its answer cell was not filled in, did not run, or raised "
                                 "an error"), name=name)
            payload, info = HARVESTERS[kind](namespace[name], item)
            torch.save(payload, os.path.join(out_dir, name + ".pt"))
            manifest[name] = {"ok": True, "kind": kind, **info}
        except Exception as error:  # anything a student's object does wrong is that artifact's problem only
            manifest[name] = {"ok": False, "kind": kind, "error": _describe_error(error), **_message_of(error)}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f)


def _message_of(error):
    """The message id and parameters of a refusal, for the grader to translate; none for other errors."""
    if isinstance(error, Refused):
        return {"message": error.message, "params": error.params}
    return {}


def _describe_error(error):
    if isinstance(error, Refused):
        return str(error)
    return f"{type(error).__name__}: {error}"[:500]


def harvest_value(obj, item):
    counter = [0]
    return {"value": convert(obj, counter, 0)}, {"summary": summarize(obj)}


def harvest_module(obj, item):
    import torch

    if not isinstance(obj, torch.nn.Module):
        raise Refused(N_("{name} is a {type}, not a torch.nn.Module"), name=item["name"], type=type(obj).__name__)
    layers = list(obj) if isinstance(obj, torch.nn.Sequential) else [obj]
    described = [describe_layer(layer) for layer in layers]
    state = {key: tensor.detach().cpu().clone().as_subclass(torch.Tensor) for key, tensor in obj.state_dict().items()}
    return {"state_dict": state}, {"layers": described, "sequential": isinstance(obj, torch.nn.Sequential)}


def describe_layer(layer):
    import torch

    cls = type(layer)
    description = {"type": cls.__name__, "module": cls.__module__}
    if cls is torch.nn.Linear:
        description.update(in_features=int(layer.in_features), out_features=int(layer.out_features),
                           bias=layer.bias is not None)
    return description


def harvest_function(obj, item):
    if not callable(obj):
        raise Refused(N_("{name} is a {type}, not a function"), name=item["name"], type=type(obj).__name__)
    results = []
    for arguments in item["calls"]:
        try:
            output = obj(*[as_argument(a) for a in arguments])
        except Exception as error:
            results.append({"output": None, "error": f"{item['name']} raised {_describe_error(error)}"})
            continue
        try:
            results.append({"output": convert(output, [0], 0), "error": None})
        except Exception as error:
            results.append({"output": None, "error": f"the output of {item['name']} cannot be graded: "
                                                     f"{_describe_error(error)}"})
    return {"calls": results}, {}


def as_argument(value):
    import torch

    return torch.tensor(value, dtype=torch.float32) if isinstance(value, list) else value


def convert(obj, counter, depth):
    """Plain tensors, numbers, strings and containers of them; anything else is refused."""
    import numpy
    import torch

    cls = type(obj)  # not isinstance: an object can claim any class through __class__
    if depth > MAX_DEPTH:
        raise Refused(N_("nested more than {depth} levels deep"), depth=MAX_DEPTH)
    if obj is None or cls in (bool, int, float, str):
        _count(counter, len(obj) // 8 if cls is str else 1)
        return obj
    if issubclass(cls, torch.Tensor):
        return _count(counter, torch.Tensor.detach(obj).cpu().clone().as_subclass(torch.Tensor))
    if issubclass(cls, numpy.ndarray):
        return _count(counter, torch.from_numpy(numpy.array(obj, copy=True)))
    if issubclass(cls, numpy.generic):
        return obj.item()
    if type(obj) in (list, tuple):
        return [convert(x, counter, depth + 1) for x in obj]
    if type(obj) is dict and all(type(k) is str for k in obj):
        return {k: convert(v, counter, depth + 1) for k, v in obj.items()}
    raise Refused(N_("a {type} cannot be graded; expected a tensor, number, string, or a list of them"),
                  type=type(obj).__name__)


def _count(counter, value):
    counter[0] += value if type(value) is int else value.numel()
    if counter[0] > MAX_ELEMENTS:
        raise Refused(N_("more than {limit} numbers"), limit=MAX_ELEMENTS)
    return value


def summarize(obj):
    shape = getattr(obj, "shape", None)
    if shape is not None:
        return f"{type(obj).__name__} of shape {tuple(shape)}"
    if type(obj) in (list, tuple):
        return f"{type(obj).__name__} of length {len(obj)}"
    return type(obj).__name__


HARVESTERS = {"value": harvest_value, "module": harvest_module, "function": harvest_function}
