"""Runs INSIDE the student's kernel: saves what a question declares, in forms the grader loads safely.

The grader sends this file's text into the kernel, followed by one `harvest(...)` call. It must stay
self-contained (torch, numpy and the standard library only) and never import assignkit. Everything it writes is
loaded back in the grader with `json.load`, as raw float64 numbers, or with `torch.load(weights_only=True)`;
nothing is pickled.

Why an artifact was refused is written as a message id (English, marked with `N_` for the kit's catalog) and
its parameters, beside the English text, so that the grader shows it in the student's language.
"""

import array
import json
import os

MAX_ELEMENTS = 5_000_000  # per artifact: far above any answer in the homework, far below a disk bomb
MAX_DEPTH = 6
NUMBER_TYPES = {bool, int, float}  # exactly these classes: kept as they are, each counted as one number
LAYER_TYPES = ("Linear", "ReLU", "Sigmoid", "Tanh", "Identity")
RECORDER = "__assignkit_recorder__"  # the sys.modules entry holding what the recorder saw since the last harvest
RECORD_FILE = "record.json"
CHAIN_DEPTH = 3  # grad_fn names kept below a loss: enough to see sigmoid(sigmoid(u)) or a logits loss on a sigmoid
MAX_RECORDED = 50  # optimizers and distinct losses kept per question


def N_(message):
    """Marks a message id for the kit's catalog, as assignkit.i18n.N_ does (this file cannot import it)."""
    return message


class Refused(Exception):
    """An object the harvest will not save: `message` is the message id, `params` its parameters."""

    def __init__(self, message, **params):
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


def harvest(namespace, plan, out_dir, record=False):
    os.makedirs(out_dir, exist_ok=True)
    manifest = {}
    for item in plan:
        name, kind = item["name"], item["kind"]
        try:
            if name not in namespace:
                raise Refused(N_("{name} is not defined: its answer cell was not filled in, did not run, or raised "
                                 "an error"), name=name)
            payload, info = HARVESTERS[kind](namespace[name], item)
            save_payload(payload, os.path.join(out_dir, name))
            manifest[name] = {"ok": True, "kind": kind, **info}
        except Exception as error:  # anything a student's object does wrong is that artifact's problem only
            manifest[name] = {"ok": False, "kind": kind, "error": _describe_error(error), **_message_of(error)}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    save_record(namespace, plan, out_dir, record)


PLAIN_SUFFIX, TENSOR_SUFFIX = ".plain.json", ".pt"  # no identifier has a dot: never manifest.json or record.json
PLAIN_MAX_CHARS = 10_000_000  # above: torch.save, whose 9 bytes per float keep a large answer under the size limit
# Beside a .plain.json, its long lists of floats as float64 in this machine's byte order; in the JSON text each such
# list is {FLOATS_KEY: [start, count]}. json writes 100,000 floats in 55 ms and reads them in 17 ms; this 3 and 2 ms.
FLOATS_SUFFIX = ".floats"
FLOATS_KEY = "\u0000floats"  # no identifier holds a NUL; a payload dict with this key is saved with torch.save
MIN_FLOATS = 64  # shorter lists stay in the text


class _NotPlain(Exception):
    pass


def _not_plain(obj):
    raise _NotPlain()


def save_payload(payload, path):
    """`path` + .plain.json (and + .floats for its long lists of floats) when the payload holds no tensor and is
    not large (json reads a record of 100,000 floats back ten times faster than torch.load's safe unpickler), else
    + .pt with torch.save."""
    import torch

    floats = array.array("d")
    try:
        text = json.dumps(_floats_taken_out(payload, floats), default=_not_plain)
    except (_NotPlain, ValueError):  # a tensor; an int too long for json; a dict with FLOATS_KEY
        text = None
    if text is None or len(text) > PLAIN_MAX_CHARS:
        torch.save(payload, path + TENSOR_SUFFIX)
        return
    if floats:
        with open(path + FLOATS_SUFFIX, "wb") as f:
            floats.tofile(f)
    with open(path + PLAIN_SUFFIX, "w") as f:
        f.write(text)


def _floats_taken_out(value, floats):
    """`value` with each list of at least MIN_FLOATS floats (float itself, no subclass) replaced by
    {FLOATS_KEY: [start, count]}, its numbers appended to `floats`."""
    kind = type(value)
    if kind is list:
        if len(value) >= MIN_FLOATS and set(map(type, value)) == {float}:
            start = len(floats)
            floats.extend(value)
            return {FLOATS_KEY: [start, len(value)]}
        return [_floats_taken_out(item, floats) for item in value]
    if kind is dict:
        if FLOATS_KEY in value:
            raise _NotPlain()
        return {key: _floats_taken_out(item, floats) for key, item in value.items()}
    return value


# ---------------------------------------------------------------- the recorder: how the student trained

def install_recorder():
    """Run once before the student's first cell: count, until each harvest, the optimizer steps (class, lr,
    which parameters), the zero_grad calls and the losses `backward()` was called on (with the operations just
    below them, read at the first backward() of each kind of loss in a question: walking the graph at every
    step cost 3 % of a training). It changes no result: the hooks only count. It lives in the student's
    process, so the grader takes what it reports as evidence for messages, never as a reason to give points."""
    import sys
    import types

    import torch
    from torch.optim.optimizer import Optimizer, register_optimizer_step_post_hook

    state = types.ModuleType(RECORDER)
    state.optimizers, state.losses, state.chains, state.module_zero_grads = {}, {}, {}, 0
    sys.modules[RECORDER] = state

    def after_step(optimizer, args, kwargs):
        entry = state.optimizers.get(id(optimizer))
        if entry is None:
            if len(state.optimizers) >= MAX_RECORDED:
                return
            entry = state.optimizers[id(optimizer)] = {
                "cls": type(optimizer).__name__, "module": type(optimizer).__module__, "steps": 0, "zero_grads": 0,
                "params": [id(p) for group in optimizer.param_groups for p in group["params"]]}
        entry["steps"] += 1
        entry["lr"] = _number_or_none(optimizer.param_groups[0].get("lr"))

    def counted_zero_grad(original):
        def zero_grad(self, *args, **kwargs):
            entry = state.optimizers.get(id(self))
            if entry is not None:
                entry["zero_grads"] += 1
            return original(self, *args, **kwargs)
        return zero_grad

    def counted_module_zero_grad(original):
        def zero_grad(self, *args, **kwargs):
            state.module_zero_grads += 1
            return original(self, *args, **kwargs)
        return zero_grad

    def recorded_backward(original):
        def backward(self, *args, **kwargs):
            grad_fn = getattr(self, "grad_fn", None)
            key = state.chains.get(type(grad_fn))
            if key is None:
                key = _grad_chain(grad_fn)
                if len(state.chains) < MAX_RECORDED:
                    state.chains[type(grad_fn)] = key
            if key in state.losses or len(state.losses) < MAX_RECORDED:
                state.losses[key] = state.losses.get(key, 0) + 1
            return original(self, *args, **kwargs)
        return backward

    register_optimizer_step_post_hook(after_step)
    Optimizer.zero_grad = counted_zero_grad(Optimizer.zero_grad)
    torch.nn.Module.zero_grad = counted_module_zero_grad(torch.nn.Module.zero_grad)
    torch.Tensor.backward = recorded_backward(torch.Tensor.backward)


def _grad_chain(grad_fn):
    """The names of the operation that made a loss and, following its first input, the ones below it."""
    chain = ()
    while grad_fn is not None and len(chain) < CHAIN_DEPTH:
        chain += (type(grad_fn).__name__,)
        below = None
        for function, _ in getattr(grad_fn, "next_functions", ()):
            if function is not None:
                below = function
                break
        grad_fn = below
    return chain or ("none",)


def _number_or_none(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def save_record(namespace, plan, out_dir, write):
    """When `write`, what the recorder saw since the last harvest as record.json; then, in any case, start
    counting afresh for the next question."""
    import sys

    state = sys.modules.get(RECORDER)
    if state is None:
        return
    try:  # the student's code can reach this state: anything garbled means no record, never a failed harvest
        if write:
            _write_record(state, namespace, plan, out_dir)
    except Exception:
        pass
    try:
        state.optimizers, state.losses, state.chains, state.module_zero_grads = {}, {}, {}, 0
    except Exception:
        pass


def _write_record(state, namespace, plan, out_dir):
    """Every optimizer stepped, with the harvested networks whose parameters it holds, and every loss."""
    import torch

    parameters = {}
    for item in plan:
        obj = namespace.get(item["name"]) if item["kind"] == "module" else None
        if isinstance(obj, torch.nn.Module):
            parameters[item["name"]] = {id(p) for p in obj.parameters()}
    optimizers = [{"cls": str(e["cls"]), "module": str(e["module"]), "steps": int(e["steps"]),
                   "zero_grads": int(e["zero_grads"]), "lr": e.get("lr"),
                   "trains": sorted(name for name, ids in parameters.items() if ids & set(e["params"]))}
                  for e in state.optimizers.values()]
    record = {"optimizers": optimizers, "module_zero_grads": int(state.module_zero_grads),
              "losses": [{"chain": list(key), "calls": int(calls)} for key, calls in state.losses.items()]}
    with open(os.path.join(out_dir, RECORD_FILE), "w") as f:
        json.dump(record, f)


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
    return {"value": convert(obj, counter, 0)}, {"summary": summarize(obj), "summary_message": summary_message(obj)}


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
        except Exception as error:  # the student's own exception text stays as Python wrote it
            results.append(_failed_call(N_("{name} raised {error}"), item["name"], error))
            continue
        try:
            results.append({"output": convert(output, [0], 0), "error": None})
        except Exception as error:
            results.append(_failed_call(N_("the output of {name} cannot be graded: {error}"), item["name"], error))
    return {"calls": results}, {}


def _failed_call(message, name, error):
    """A call that gave nothing to grade: the English text, the message id with its parameters, and the refusal
    it names when the harvest refused the output (its own id, translated in the grader too)."""
    described = _describe_error(error)
    failed = {"output": None, "error": message.format(name=name, error=described), "message": message,
              "params": {"name": name, "error": described}}
    if isinstance(error, Refused):
        failed["refused"] = _message_of(error)
    return failed


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
        if depth < MAX_DEPTH and set(map(type, obj)) <= NUMBER_TYPES:  # numbers only: the same list, made in C
            _count(counter, len(obj))
            return list(obj)
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
    said = summary_message(obj)
    return said["message"].format(**said["params"])


def summary_message(obj):
    """What an object is (`Tensor of shape (3,)`), as a message id and its parameters for the grader to translate."""
    shape = getattr(obj, "shape", None)
    if shape is not None:
        return {"message": N_("{type} of shape {shape}"), "params": {"type": type(obj).__name__,
                                                                     "shape": str(tuple(shape))}}
    if type(obj) in (list, tuple):
        return {"message": N_("{type} of length {length}"), "params": {"type": type(obj).__name__,
                                                                       "length": len(obj)}}
    return {"message": "{type}", "params": {"type": type(obj).__name__}}


HARVESTERS = {"value": harvest_value, "module": harvest_module, "function": harvest_function}
