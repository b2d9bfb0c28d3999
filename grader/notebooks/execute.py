"""Running a student's notebook with nbclient, and turning every way it can fail into data.

The notebook runs in a fresh kernel, in a scratch copy of its folder, with a timeout per
cell and for the whole notebook, and a memory limit enforced by watching the kernel's
resident memory (and its children's) and killing it past the limit. The kernel is started
through its confinement (:mod:`grader.notebooks.isolation`): a bubblewrap sandbox, talking
to the grader over Unix sockets since it has no network, where the machine has one. Hidden cells run the
grader's kernel-side code before and after the student's cells; they are never added to
the notebook that is kept. The outcome is an ``Execution`` with a status; only the
grader's own bugs raise.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets import List, Unicode

from grader.confinement import MemoryWatch
from grader.notebooks.isolation import KernelConfinement
from grader.notebooks.status import RunStatus
from grader.notebooks.trace import RecordStream

OK, ERROR, TIMEOUT = RunStatus.OK, RunStatus.ERROR, RunStatus.TIMEOUT
DEAD_KERNEL, OUT_OF_MEMORY, INVALID = RunStatus.DEAD_KERNEL, RunStatus.OUT_OF_MEMORY, RunStatus.INVALID_NOTEBOOK

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class CellProblem:
    """Where and how the notebook stopped: cell number (1-based, code and markdown alike)."""

    cell: int
    kind: str
    message: str
    line: str = ""
    line_number: int | None = None


@dataclass
class Execution:
    status: RunStatus
    notebook: Any = None  # the executed notebook (outputs included), when it could be read
    problem: CellProblem | None = None
    seconds: float = 0.0
    cells_run: int = 0
    peak_memory_mb: float = 0.0
    hidden_errors: list[str] = field(default_factory=list)


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for child processes: TensorFlow's logs quieter, plots off-screen."""
    env = dict(os.environ)
    env.update({"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"})
    env.update(extra or {})
    return env



def read_notebook(path: Path) -> Any:
    """The notebook, or raise ValueError saying why it is not one."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises many kinds for a bad file
        raise ValueError(f"{path.name} is not a readable notebook: {type(exc).__name__}: {str(exc)[:200]}") from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise ValueError(f"{path.name} is not a valid notebook: {str(exc).splitlines()[0]}") from None
    return nb


def _error_line(cell: Any, traceback: list[str]) -> tuple[str, int | None]:
    """The source line of the cell that raised, from IPython's 'Cell In[n], line k' frame."""
    text = _ANSI.sub("", "\n".join(traceback))
    match = re.search(r"Cell In\[\d+\], line (\d+)", text)
    if not match:
        return "", None
    number = int(match.group(1))
    lines = cell.source.splitlines()
    return (lines[number - 1].strip() if 0 < number <= len(lines) else ""), number


@dataclass(frozen=True)
class RunLimits:
    cell_timeout: float
    notebook_timeout: float
    memory_mb: float


class ConfinedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command starts with a sandbox's prefix (bubblewrap)."""

    prefix = List(Unicode())

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [*self.prefix, *super().format_kernel_cmd(extra_arguments)]


def _kernel_manager(confinement: KernelConfinement | None) -> ConfinedKernelManager:
    if confinement is None or not confinement.prefix:
        return ConfinedKernelManager(kernel_name="python3")
    assert confinement.sockets is not None
    return ConfinedKernelManager(kernel_name="python3", prefix=confinement.prefix, transport="ipc",
                                 ip=str(confinement.sockets / "k"),
                                 connection_file=str(confinement.sockets / "kernel.json"))


def execute(nb: Any, workdir: Path, setup_code: str, finish_code: str, limits: RunLimits,
            confinement: KernelConfinement | None = None, records: RecordStream | None = None) -> Execution:
    """Run hidden setup, every code cell, then hidden finish (if the kernel is still usable),
    in the kernel's confinement; whatever the notebook started is stopped at the end. The
    kernel inherits the write end of ``records``, the pipe the hidden code records on."""
    client = NotebookClient(
        nb, km=_kernel_manager(confinement), timeout=int(limits.cell_timeout), allow_errors=False,
        resources={"metadata": {"path": str(workdir)}}, record_timing=True,
    )
    execution = Execution(status=OK, notebook=nb)
    start = time.monotonic()
    watch: list[MemoryWatch] = []
    kernel: list[int] = []

    def stopped() -> bool:
        """Whether a memory limit stopped the kernel: its own watch, or its control group's."""
        return bool(watch and watch[0].killed) or bool(confinement and confinement.out_of_memory())
    start_options = confinement.start_options() if confinement else {}
    if records:
        start_options["pass_fds"] = (records.write_fd,)

    async def run_all() -> None:
        async with client.async_setup_kernel(**start_options):
            if records:
                records.started()
            pid = getattr(client.km.provisioner, "pid", None) if client.km else None
            if pid:
                kernel.append(pid)
                watch.append(MemoryWatch(pid, limits.memory_mb))
                watch[0].start()
            await _hidden(client, setup_code, execution, "setup")
            current = -1
            try:
                for index, cell in enumerate(nb.cells):
                    current = index
                    if cell.cell_type == "code":
                        await client.async_execute_cell(cell, index)
                        execution.cells_run += 1
            except CellExecutionError as exc:
                cell = nb.cells[current]
                line, number = _error_line(cell, _traceback(cell))
                execution.status = ERROR
                execution.problem = CellProblem(current + 1, exc.ename, exc.evalue, line, number)
            except CellTimeoutError:
                execution.status = TIMEOUT
                execution.problem = CellProblem(
                    current + 1, "timeout", f"cell {current + 1} was still running after {limits.cell_timeout:g} s")
                return
            except DeadKernelError:
                _dead(execution, current, stopped(), limits)
                return
            try:
                await _hidden(client, finish_code, execution, "finish")
            except DeadKernelError:
                _dead(execution, current, stopped(), limits)

    try:
        asyncio.run(asyncio.wait_for(run_all(), timeout=limits.notebook_timeout))
    except TimeoutError:
        running = _running_cell(nb)
        execution.status = TIMEOUT
        execution.problem = CellProblem(
            running, "timeout", f"the notebook was still running after {limits.notebook_timeout:g} s (in cell {running})")
    except DeadKernelError:
        _dead(execution, _running_cell(nb) - 1, stopped(), limits)
    finally:
        for w in watch:
            w.stopped.set()
            execution.peak_memory_mb = round(w.peak_mb, 1)
        if confinement:
            confinement.close(kernel[0] if kernel else None)
    execution.seconds = round(time.monotonic() - start, 2)
    return execution


def _running_cell(nb: Any) -> int:
    """1-based number of the last cell that started executing."""
    started = [i for i, c in enumerate(nb.cells)
               if c.cell_type == "code" and c.get("metadata", {}).get("execution", {}).get("iopub.execute_input")]
    return (started[-1] + 1) if started else 1


def _dead(execution: Execution, index: int, killed: bool, limits: RunLimits) -> None:
    execution.status = OUT_OF_MEMORY if killed else DEAD_KERNEL
    message = (f"the kernel used more than {limits.memory_mb:g} MB and was stopped" if killed
               else "the kernel died (it crashed or was killed)")
    execution.problem = CellProblem(index + 1, execution.status, f"{message} while running cell {index + 1}; "
                                    f"{execution.cells_run} code cell(s) before it had run")


def _traceback(cell: Any) -> list[str]:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output.get("traceback", [])
    return []


async def _hidden(client: NotebookClient, code: str, execution: Execution, name: str) -> None:
    """Run grader code in the kernel; its failure is recorded, not raised (except a dead kernel)."""
    cell = nbformat.v4.new_code_cell(code)
    cells = client.nb.cells
    cells.append(cell)  # nbclient stores the executed cell at its index: give it one of its own
    index = len(cells) - 1
    try:
        await client.async_execute_cell(cell, index, store_history=False)
    except CellExecutionError as exc:
        execution.hidden_errors.append(f"{name}: {exc.ename}: {exc.evalue}")
    finally:
        del cells[index]
