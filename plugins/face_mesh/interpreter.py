"""A packaged TFLite network on LiteRT, custom operators included: builtin-only pieces run by
LiteRT, with the custom operators computed in numpy between them.

Why pieces: LiteRT's Python interpreter cannot take operators written in Python. The model's
operators are listed in an order that runs, so cutting that list at each run of custom
operators gives segments that LiteRT runs as they are: each segment is the same model (same
tensors and weights) with only its operators, taking as inputs the tensors it reads that
earlier steps made, and giving as outputs those that later steps read. A network without
custom operators is one piece. Why one thread: the harness already runs one worker per core,
and one thread keeps the arithmetic, and so the landmarks, the same in every worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..native_log import glog_notices_dropped
from .custom_ops import OPERATORS
from .model_files import model_bytes


@dataclass(frozen=True)
class _Segment:
    interpreter: Any
    inputs: tuple[tuple[int, int], ...]  # (model tensor id, interpreter input index)
    outputs: tuple[tuple[int, int], ...]  # (model tensor id, interpreter output index)


@dataclass(frozen=True)
class _Custom:
    operator: Callable[..., np.ndarray]
    inputs: tuple[int, ...]
    output: int
    options: dict[str, Any]


def _custom_name(model: Any, operator: Any) -> str | None:
    code = model.operatorCodes[operator.opcodeIndex]
    return code.customCode.decode() if code.customCode else None


class Network:
    """A packaged `.tflite` file, run on one input, giving its outputs by tensor name."""

    def __init__(self, name: str) -> None:
        import flatbuffers
        from ai_edge_litert import schema_py_generated as schema
        from ai_edge_litert.interpreter import Interpreter
        from flatbuffers import flexbuffers

        content = model_bytes(name)
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(content, 0))
        graph = model.subgraphs[0]
        operators = list(graph.operators)
        constant = {i for i, t in enumerate(graph.tensors) if model.buffers[t.buffer].data is not None}
        needed_after = [set(map(int, graph.outputs))]  # tensors read by operators at or after index i
        for operator in reversed(operators):
            needed_after.insert(0, needed_after[0] | {int(t) for t in operator.inputs if t >= 0})
        self._input = int(graph.inputs[0])
        self._outputs = [int(t) for t in graph.outputs]
        self._names = {int(t): graph.tensors[t].name.decode() for t in self._outputs}
        self._steps: list[_Segment | _Custom] = []
        start = 0
        with glog_notices_dropped():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
            while start < len(operators):
                name = _custom_name(model, operators[start])
                if name is not None:
                    operator = operators[start]
                    options = (
                        flexbuffers.Loads(bytes(operator.customOptions)) if operator.customOptions is not None else {}
                    )
                    self._steps.append(
                        _Custom(
                            OPERATORS[name], tuple(int(t) for t in operator.inputs), int(operator.outputs[0]), options
                        )
                    )
                    start += 1
                    continue
                end = start
                while end < len(operators) and _custom_name(model, operators[end]) is None:
                    end += 1
                piece = operators[start:end]
                made = {int(t) for op in piece for t in op.outputs}
                read = {int(t) for op in piece for t in op.inputs if t >= 0}
                inputs = sorted(read - made - constant)
                outputs = sorted(made & needed_after[end])
                graph.operators, graph.inputs, graph.outputs = (
                    piece,
                    np.array(inputs, np.int32),
                    np.array(outputs, np.int32),
                )
                builder = flatbuffers.Builder(len(content) + 4096)
                builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
                interpreter = Interpreter(model_content=bytes(builder.Output()), num_threads=1)
                interpreter.allocate_tensors()
                self._steps.append(
                    _Segment(
                        interpreter,
                        tuple((t, d["index"]) for t, d in zip(inputs, interpreter.get_input_details())),
                        tuple((t, d["index"]) for t, d in zip(outputs, interpreter.get_output_details())),
                    )
                )
                start = end
        first = next(s for s in self._steps if isinstance(s, _Segment))
        self.input_size = int(first.interpreter.get_input_details()[0]["shape"][1])

    def __call__(self, tensor: np.ndarray) -> dict[int, np.ndarray]:
        values: dict[int, np.ndarray] = {self._input: np.ascontiguousarray(tensor, np.float32)}
        for step in self._steps:
            if isinstance(step, _Custom):
                values[step.output] = step.operator(*(values[t] for t in step.inputs), step.options)
                continue
            for tensor_id, index in step.inputs:
                step.interpreter.set_tensor(index, np.ascontiguousarray(values[tensor_id], np.float32))
            step.interpreter.invoke()
            for tensor_id, index in step.outputs:
                values[tensor_id] = step.interpreter.get_tensor(index)
        return {self._names[t]: values[t].reshape(-1) for t in self._outputs}
