"""Running a student's notebook with nbclient, and turning every way it can fail into data.

The notebook runs in a fresh kernel, in a scratch copy of its folder, with a timeout per
cell and for the whole notebook, a memory limit enforced by watching the kernel's
resident memory (and its children's) and killing it past the limit, and a disk limit: what
it writes to its scratch folder is watched the same way, no single file may pass the limit
(RLIMIT_FSIZE) and its private /tmp is a tmpfs of that size. Running out of space, the
limit's or the machine's, is told apart from the notebook's own errors by what was measured
and by the error's number (``disk_full``), never left to look like a missing model. The kernel is started
through its confinement (:mod:`grader.notebooks.isolation`): a bubblewrap sandbox, talking
to the grader over Unix sockets since it has no network, where the machine has one. Hidden cells run the
grader's kernel-side code before and after the student's cells; they are never added to
the notebook that is kept. The outcome is an ``Execution`` with a status; only the
grader's own bugs raise.
"""

from __future__ import annotations

import asyncio
import errno
import json
import re
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets import List, Type, Unicode

from grader.errors import NotebookFileError
from grader.isolation.process_limits import MemoryWatch
from grader.isolation.sandbox import sizes_tmpfs, with_tmp_size
from grader.notebooks.isolation import KernelConfinement
from grader.notebooks.status import RunStatus
from grader.notebooks.trace import RecordStream
from grader.scratch import DEFAULT_DISK_MB, DiskUse, DiskWatch, limit_file_size

OK, ERROR, TIMEOUT = RunStatus.OK, RunStatus.ERROR, RunStatus.TIMEOUT
DEAD_KERNEL, OUT_OF_MEMORY, INVALID = RunStatus.DEAD_KERNEL, RunStatus.OUT_OF_MEMORY, RunStatus.INVALID_NOTEBOOK
DISK_FULL = RunStatus.DISK_FULL

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
    hidden_failures: list[HiddenFailure] = field(default_factory=list)  # the same, typed
    disk: DiskUse | None = None  # what the notebook wrote, as last measured


@dataclass(frozen=True)
class HiddenFailure:
    """A hidden cell that raised: which one (setup, finish) and the error's name and value."""

    cell: str
    ename: str
    evalue: str


_SAVE_AGAIN = (
    "Hand in the .ipynb file Jupyter saves (open the notebook in Jupyter or VS Code and save it, "
    "or use File > Download)"
)


def read_notebook(path: Path) -> Any:
    """The notebook, or raise NotebookFileError saying, with the file's name, why it is not
    one and what to hand in instead."""
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotebookFileError(f"{name} cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookFileError(
            f"{name} is not a notebook: it is not text (a notebook is a JSON text file). {_SAVE_AGAIN}."
        ) from None
    if not text.strip():
        raise NotebookFileError(f"{name} is not a notebook: the file is empty. {_SAVE_AGAIN}.")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        where = f"line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "its start"
        raise NotebookFileError(
            f"{name} is not a notebook: it is not JSON ({where}: {getattr(exc, 'msg', exc)}). {_SAVE_AGAIN}."
        ) from None
    found = _not_a_notebook(doc)
    if found:
        raise NotebookFileError(
            f"{name} is not a notebook: expected a JSON object with cells (a list of cell "
            f"objects), metadata and nbformat, as Jupyter saves it, but {found}. {_SAVE_AGAIN}."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat's notes on missing cell ids: not the student's concern
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookFileError(
            f"{name} is not a valid notebook: {_where(exc)}{str(exc).splitlines()[0]}. {_SAVE_AGAIN}."
        ) from None
    except Exception as exc:  # nbformat raises many kinds for a bad file
        raise NotebookFileError(
            f"{name} is not a readable notebook ({type(exc).__name__}: {str(exc)[:200]}). {_SAVE_AGAIN}."
        ) from None
    return nb


def _kind(value: Any) -> str:
    return {
        bool: "a true/false value",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _not_a_notebook(doc: Any) -> str | None:
    """What makes a JSON document no notebook at all, in words; None when it looks like one."""
    if not isinstance(doc, dict):
        return f"the file holds {_kind(doc)}"
    if "cells" not in doc and "worksheets" not in doc:  # worksheets: an old (version 3) notebook
        keys = ", ".join(repr(k) for k in list(doc)[:5]) or "nothing"
        return f"it is an object without 'cells' (its keys: {keys})"
    cells = doc.get("cells", [])
    if not isinstance(cells, list):
        return f"'cells' is {_kind(cells)}, not a list"
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            return f"cell {number} is {_kind(cell)}, not an object"
    if not isinstance(doc.get("nbformat", 4), int):
        return f"'nbformat' is {_kind(doc['nbformat'])}, not a version number"
    return None


def _where(exc: Any) -> str:
    """'cell 3, field 'source': ' from a validation error's path, when it has one."""
    path = list(getattr(exc, "absolute_path", None) or getattr(exc, "path", None) or [])
    if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int):
        field_name = f", field {path[2]!r}" if len(path) > 2 else ""
        return f"cell {path[1] + 1}{field_name}: "
    return f"at {'/'.join(map(str, path))}: " if path else ""


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
    disk_mb: float = DEFAULT_DISK_MB  # what the notebook may write to its folder; its /tmp holds as much

    @property
    def disk_bytes(self) -> int:
        return int(self.disk_mb * 2**20)


STREAM_HEAD = 80_000  # characters of printed text kept per cell from its start ...
STREAM_TAIL = 20_000  # ... and from its end (per stream), the rest left out with a note
CELL_DISPLAYS = 5 * 2**20  # bytes of other outputs (figures, tables) kept per cell
ALL_OUTPUT = 20 * 2**20  # bytes of outputs kept in all
MESSAGE_LIMIT = 64 * 2**20  # a larger message from the kernel is dropped before it is read
_TRACEBACK_LINES = 100  # an error's traceback keeps its first and last lines


class BoundedKernelClient(AsyncKernelClient):
    """A kernel client whose sockets refuse messages over ``MESSAGE_LIMIT`` (a single print
    of gigabytes never reaches the grader's memory)."""

    def _context_default(self) -> zmq.asyncio.Context:
        context = super()._context_default()
        context.setsockopt(zmq.MAXMSGSIZE, MESSAGE_LIMIT)
        return context


class ConfinedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command starts with a sandbox's prefix (bubblewrap)."""

    prefix = List(Unicode())
    client_factory = Type(BoundedKernelClient, klass=AsyncKernelClient)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [*self.prefix, *super().format_kernel_cmd(extra_arguments)]


def _overwrite(shown: str, text: str) -> str:
    """``shown`` followed by ``text`` as a terminal (and Jupyter) shows it: a carriage return
    starts its line again, so a progress bar redrawn a thousand times is one line."""
    if "\r" not in text and not shown.endswith("\r"):
        return shown + text
    start = shown.rfind("\n") + 1
    lines = []
    for line in re.sub(r"\r+\n", "\n", shown[start:] + text).split("\n"):
        if "\r" in line:
            segments, line = line.rstrip("\r").split("\r"), ("\r" if line.endswith("\r") else "")
            drawn = ""
            for segment in segments:
                drawn = segment + drawn[len(segment) :]
            line = drawn + line
        lines.append(line)
    return shown[:start] + "\n".join(lines)


@dataclass
class _Stream:
    """One stream output of a cell, kept as its head, and its tail once it grew too long."""

    output: Any
    head: str = ""
    tail: str = ""
    left_out: int = 0  # characters between head and tail
    cut: bool = False

    def add(self, text: str, room: int) -> int:
        """Add printed text with ``room`` characters left for heads; returns the growth."""
        before = len(self.output["text"])
        if not self.cut:
            head = _overwrite(self.head, text)
            if len(head) <= room:
                self.head = head
            else:
                self.cut, self.head, text = True, head[: max(room, 0)], head[max(room, 0) :]
        if self.cut:
            tail = _overwrite(self.tail, text)
            self.left_out += max(0, len(tail) - STREAM_TAIL)
            self.tail = tail[-STREAM_TAIL:]
            self.output["text"] = (
                f"{self.head}\n[output truncated by the grader after {len(self.head) // 1000} KB: "
                f"{self.left_out // 1000:,} KB left out, the last {len(self.tail) // 1000} KB "
                f"follow]\n{self.tail}"
            )
        else:
            self.output["text"] = self.head
        return len(self.output["text"]) - before


@dataclass
class _CellOutputs:
    streams: list[_Stream] = field(default_factory=list)
    printed: int = 0  # characters of stream heads kept
    displays: int = 0  # bytes of other outputs kept
    noted: bool = False


class BoundedNotebookClient(NotebookClient):
    """nbclient's client, keeping a bounded amount of what a notebook outputs: printed text
    is kept per stream as the terminal shows it (carriage returns applied), its first
    ``STREAM_HEAD`` and last ``STREAM_TAIL`` characters per cell with a note between them;
    other outputs up to ``CELL_DISPLAYS`` per cell; everything up to ``ALL_OUTPUT``. A
    notebook that prints without end then costs the grader neither memory nor disk."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: dict[int, _CellOutputs] = {}
        self._total = 0

    def _forget(self, cell_index: int) -> None:
        """The cell's outputs were cleared: what they held no longer counts."""
        cell = self._kept.pop(cell_index, None)
        if cell:
            self._total -= cell.displays + sum(len(s.output["text"]) for s in cell.streams)

    def clear_output(self, outs: list, msg: dict[str, Any], cell_index: int) -> None:
        super().clear_output(outs, msg, cell_index)
        if not outs:
            self._forget(cell_index)

    def output(self, outs: list, msg: dict[str, Any], display_id: str | None, cell_index: int) -> Any:
        if self.output_hook_stack[msg["parent_header"].get("msg_id")]:  # an Output widget: nbclient's own way
            return super().output(outs, msg, display_id, cell_index)
        if self.clear_before_next_output:  # what nbclient does before any output
            outs[:] = []
            self.clear_display_id_mapping(cell_index)
            self.clear_before_next_output = False
            self._forget(cell_index)
        cell = self._kept.setdefault(cell_index, _CellOutputs())
        kind = msg["msg_type"]
        if kind == "stream":
            return self._print(outs, msg["content"], cell)
        if kind == "error":
            content = msg["content"]
            trace = content.get("traceback") or []
            if len(trace) > 2 * _TRACEBACK_LINES:
                trace = trace[:_TRACEBACK_LINES] + ["[traceback shortened by the grader]"] + trace[-_TRACEBACK_LINES:]
            content.update(evalue=str(content.get("evalue", ""))[:10_000], traceback=[t[:10_000] for t in trace])
            return super().output(outs, msg, display_id, cell_index)
        size = max(100, len(json.dumps(msg["content"].get("data", {}))))
        if cell.displays + size > CELL_DISPLAYS or self._total + size > ALL_OUTPUT:
            if not cell.noted:
                cell.noted = True
                outs.append(
                    nbformat.v4.new_output(
                        "stream",
                        name="stdout",
                        text=(
                            f"[output truncated by the grader: more than {CELL_DISPLAYS // 2**20} MB of figures and "
                            f"displays in this cell, or {ALL_OUTPUT // 2**20} MB in the notebook]\n"
                        ),
                    )
                )
            return None
        cell.displays += size
        self._total += size
        return super().output(outs, msg, display_id, cell_index)

    def _print(self, outs: list, content: dict[str, Any], cell: _CellOutputs) -> Any:
        name = content.get("name", "stdout")
        room = min(STREAM_HEAD - cell.printed, ALL_OUTPUT - self._total)
        live = [s for s in cell.streams if s.output.get("name") == name and any(o is s.output for o in outs)]
        stream = live[-1] if live and (outs[-1] is live[-1].output or room <= 0) else None
        if stream is None:
            stream = _Stream(nbformat.v4.new_output("stream", name=name, text=""))
            cell.streams.append(stream)
            outs.append(stream.output)
        heads = len(stream.head)
        grown = stream.add(str(content.get("text", "")), room + heads)
        cell.printed += len(stream.head) - heads
        self._total += grown
        return stream.output


def _kernel_manager(confinement: KernelConfinement | None, tmp_size: int | None) -> ConfinedKernelManager:
    if confinement is None or not confinement.prefix:
        return ConfinedKernelManager(kernel_name="python3")
    assert confinement.sockets is not None
    return ConfinedKernelManager(
        kernel_name="python3",
        prefix=with_tmp_size(confinement.prefix, tmp_size) if tmp_size else confinement.prefix,
        transport="ipc",
        ip=str(confinement.sockets / "k"),
        connection_file=str(confinement.sockets / "kernel.json"),
    )


def execute(
    nb: Any,
    workdir: Path,
    setup_code: str,
    finish_code: str,
    limits: RunLimits,
    confinement: KernelConfinement | None = None,
    records: RecordStream | None = None,
) -> Execution:
    """Run hidden setup, every code cell, then hidden finish (if the kernel is still usable),
    in the kernel's confinement; whatever the notebook started is stopped at the end. The
    kernel inherits the write end of ``records``, the pipe the hidden code records on."""
    # the kernel's private /tmp (a tmpfs in its sandbox) holds as much as it may write to its folder
    tmp_size = limits.disk_bytes if confinement and confinement.prefix and sizes_tmpfs(confinement.prefix[0]) else None
    client = BoundedNotebookClient(
        nb,
        km=_kernel_manager(confinement, tmp_size),
        timeout=int(limits.cell_timeout),
        allow_errors=False,
        resources={"metadata": {"path": str(workdir)}},
        record_timing=True,
        store_widget_state=False,
    )
    execution = Execution(status=OK, notebook=nb)
    start = time.monotonic()
    scratch = confinement.scratch if confinement and confinement.scratch else workdir
    # what the notebook writes is counted from here: the grader's copies (its folder, the data) are not
    disk = DiskWatch(scratch, limits.disk_bytes, tmp_size=tmp_size)
    run = _Run(nb, client, limits, confinement, records, disk, execution)
    # The kernel's own standard streams go to a file of its own, never the grader's: what a
    # notebook writes to descriptors 1 and 2 (os.write, a child process) must not reach the
    # grader's output (its --json document, the instructor's terminal).
    kernel_streams = tempfile.TemporaryFile(prefix="grader-kernel-streams-")
    start_options = _start_options(confinement, limits, records, kernel_streams)
    try:
        asyncio.run(
            asyncio.wait_for(run.run_all(setup_code, finish_code, start_options), timeout=limits.notebook_timeout)
        )
    except TimeoutError:
        running = _running_cell(nb)
        execution.status = TIMEOUT
        execution.problem = CellProblem(
            running,
            "timeout",
            f"the notebook was still running after {limits.notebook_timeout:g} s (in cell {running})",
        )
    except DeadKernelError:
        run.dead(_running_cell(nb) - 1)
    finally:
        run.close()
        kernel_streams.close()
    execution.seconds = round(time.monotonic() - start, 2)
    return execution


def _start_options(
    confinement: KernelConfinement | None, limits: RunLimits, records: RecordStream | None, streams: Any
) -> dict[str, Any]:
    """How the kernel is started: in its confinement, within its file size limit, holding the
    record pipe's write end, its standard streams to ``streams``."""
    options = confinement.start_options() if confinement else {}
    options["preexec_fn"] = _before_exec(options.get("preexec_fn"), limits.disk_bytes)
    if records:
        options["pass_fds"] = (records.write_fd,)
    options.update(stdin=subprocess.DEVNULL, stdout=streams, stderr=streams)
    return options


@dataclass
class _Run:
    """One notebook's run in its kernel: the steps of ``execute`` and what they share."""

    nb: Any
    client: BoundedNotebookClient
    limits: RunLimits
    confinement: KernelConfinement | None
    records: RecordStream | None
    disk: DiskWatch
    execution: Execution
    watch: list[MemoryWatch] = field(default_factory=list)
    kernel: list[int] = field(default_factory=list)

    def stopped(self) -> bool:
        """Whether a memory limit stopped the kernel: its own watch, or its control group's."""
        return bool(self.watch and self.watch[0].killed) or bool(self.confinement and self.confinement.out_of_memory())

    def dead(self, index: int) -> None:
        """The kernel died running cell ``index`` (0-based): for want of space, memory, or else."""
        use = self.disk.measure()
        if use.stopped or (not self.stopped() and use.exhausted):
            _disk_full(self.execution, index + 1, use, self.limits, "died")
        else:
            _dead(self.execution, index, self.stopped(), self.limits)

    async def run_all(self, setup_code: str, finish_code: str, start_options: dict[str, Any]) -> None:
        """Start the kernel, then hidden setup, the notebook's cells and hidden finish."""
        async with self.client.async_setup_kernel(**start_options):
            if self.records:
                self.records.started()
            self.watch_kernel()
            await _hidden(self.client, setup_code, self.execution, "setup")
            current = await self.run_cells()
            if current is not None:
                await self.finish(finish_code, current)

    def watch_kernel(self) -> None:
        """Watch the started kernel's memory and what it writes."""
        pid = getattr(self.client.km.provisioner, "pid", None) if self.client.km else None
        if pid:
            self.kernel.append(pid)
            self.watch.append(MemoryWatch(pid, self.limits.memory_mb))
            self.watch[0].start()
            self.disk.pid = pid
            self.disk.start()

    async def run_cells(self) -> int | None:
        """Every code cell in order: the index of the last one run, or None when the run is
        over (a cell timed out, the kernel died)."""
        execution, limits, current = self.execution, self.limits, -1
        try:
            for index, cell in enumerate(self.nb.cells):
                current = index
                if cell.cell_type == "code":
                    await self.client.async_execute_cell(cell, index)
                    execution.cells_run += 1
        except CellExecutionError as exc:
            cell = self.nb.cells[current]
            line, number = _error_line(cell, _traceback(cell))
            execution.status = ERROR
            execution.problem = CellProblem(current + 1, exc.ename, _ANSI.sub("", exc.evalue), line, number)
            use = self.disk.measure()
            if _out_of_space(exc.ename, exc.evalue, use):
                _disk_full(execution, current + 1, use, limits, "cell", exc.ename, exc.evalue)
        except CellTimeoutError:
            execution.status = TIMEOUT
            execution.problem = CellProblem(
                current + 1, "timeout", f"cell {current + 1} was still running after {limits.cell_timeout:g} s"
            )
            return None
        except DeadKernelError:
            self.dead(current)
            return None
        return current

    async def finish(self, finish_code: str, current: int) -> None:
        """Hidden finish (the model saved), unless the notebook wrote past its disk limit."""
        execution, limits = self.execution, self.limits
        last = max((i for i, c in enumerate(self.nb.cells) if c.cell_type == "code"), default=0)
        use = self.disk.measure()
        if execution.status == OK and use.over_limit:  # it passed the limit since the watch last looked
            _disk_full(execution, last + 1, use, limits, "ended")
        if use.over_limit:
            return  # as if the watch had stopped it: no model is saved past the limit
        self.disk.armed = False  # the model the finish cell saves is the grader's, not the notebook's
        try:
            await _hidden(self.client, finish_code, execution, "finish")
        except DeadKernelError:
            self.dead(current)
            return
        failed = next((f for f in execution.hidden_failures if f.cell == "finish"), None)
        if execution.status == OK and failed:
            use = self.disk.measure()
            if _out_of_space(failed.ename, failed.evalue, use, grader_wrote=True):
                _disk_full(execution, last + 1, use, limits, "finish", failed.ename, failed.evalue)

    def close(self) -> None:
        """Stop the watches, keep what they saw, and stop whatever the notebook started."""
        self.disk.stopped.set()
        self.execution.disk = self.disk.facts()
        for w in self.watch:
            w.stopped.set()
            self.execution.peak_memory_mb = round(w.peak_mb, 1)
        if self.confinement:
            self.confinement.close(self.kernel[0] if self.kernel else None)


def _running_cell(nb: Any) -> int:
    """1-based number of the last cell that started executing."""
    started = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.get("metadata", {}).get("execution", {}).get("iopub.execute_input")
    ]
    return (started[-1] + 1) if started else 1


def _dead(execution: Execution, index: int, killed: bool, limits: RunLimits) -> None:
    execution.status = OUT_OF_MEMORY if killed else DEAD_KERNEL
    message = (
        f"the kernel used more than {limits.memory_mb:g} MB and was stopped"
        if killed
        else "the kernel died (it crashed or was killed)"
    )
    execution.problem = CellProblem(
        index + 1,
        execution.status,
        f"{message} while running cell {index + 1}; {execution.cells_run} code cell(s) before it had run",
    )


def _before_exec(enter: Any, file_limit: int) -> Any:
    """What the kernel's process runs between fork and exec: join its control group (if it
    has one), then cap the size of any file it writes."""

    def before_exec() -> None:
        if enter:
            enter()
        limit_file_size(file_limit)

    return before_exec


_ERRNO = re.compile(r"\[Errno (\d+)\]")  # how Python shows an OSError's errno (str of the exception)
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def _errno(evalue: str) -> int | None:
    """The errno an error carries: OSError and its kinds print it as ``[Errno N] ...``
    (libraries that wrap one, h5py's for instance, keep that start)."""
    match = _ERRNO.match(_ANSI.sub("", evalue).strip())
    return int(match.group(1)) if match else None


def _out_of_space(ename: str, evalue: str, use: DiskUse, grader_wrote: bool = False) -> bool:
    """Whether an error came from a lack of space: its errno says so (ENOSPC, EDQUOT, or
    EFBIG, a file past the limit), or, whatever the error (a library may wrap it in its own),
    there was no room left when it was raised. ``grader_wrote``: the grader's own cell failed,
    after the notebook's limit stopped being counted: only a full /tmp or volume counts."""
    number = _errno(evalue)
    if number in _NO_SPACE or number == errno.EFBIG:
        return True
    return (use.tmp_full or use.volume_full) if grader_wrote else use.exhausted


def _amount(size: float) -> str:
    """Bytes in words: ``4 GB``, ``8 MB``, ``9.5 MB``."""
    return f"{round(size / 2**30, 1):g} GB" if size >= 2**30 else f"{round(size / 2**20, 1):g} MB"


_FOLDER = "its folder (its copy of the notebook's folder, its home and its temporary files)"
_ADVICE = (
    "save fewer or smaller files (for checkpoints, ModelCheckpoint(save_best_only=True) or one file "
    "overwritten each epoch), delete files once they are no longer needed, and keep data in memory "
    "rather than writing copies of it"
)


def _disk_full(
    execution: Execution, cell: int, use: DiskUse, limits: RunLimits, how: str, ename: str = "", evalue: str = ""
) -> None:
    """Record that the notebook ran out of space in ``cell`` (1-based), saying where (past its
    limit, its /tmp full, the machine's disk full) and what to change. ``how``: ``died`` (the
    kernel was stopped, or died), ``ended`` (past the limit when its last cell ended), ``cell``
    (a cell raised), ``finish`` (the grader could not save the model after the last cell)."""
    limit, written = _amount(limits.disk_bytes), _amount(use.written)
    error = f" ({ename}: {_ANSI.sub('', evalue).strip()[:300]})" if ename else ""
    event = {
        "died": f"the kernel was stopped in cell {cell}" if use.stopped else f"the kernel died in cell {cell}",
        "ended": f"cell {cell} ended with the notebook past its disk limit, so its model was not saved",
        "cell": f"cell {cell} ran out of disk space{error}",
        "finish": f"the grader could not save the model after the last cell{error}",
    }[how]
    if use.stopped or use.over_limit:
        reason = f"the notebook wrote {written} to {_FOLDER}; the limit is {limit}; {_ADVICE}"
    elif _errno(evalue) == errno.EFBIG:
        reason = f"a single file may not be larger than the limit of {limit}; {_ADVICE}"
    elif use.tmp_full and use.tmp_size:
        reason = (
            f"its /tmp was full (it holds at most {_amount(use.tmp_size)}, kept in memory); write temporary files "
            "to the notebook's own folder instead, and fewer or smaller ones"
        )
    elif use.volume_full:
        reason = (
            f"the grading machine's disk was full ({_amount(use.free or 0)} free) when the notebook had written "
            f"{written} of the {limit} it may write: no fault of the notebook; the grading machine needs free "
            "space, then grade the notebook again"
        )
    else:
        reason = (
            f"no space was left after the notebook wrote {written} to {_FOLDER}; the limit is {limit} there, "
            f"and as much in /tmp; {_ADVICE}"
        )
    problem = execution.problem if how == "cell" else None
    execution.status = DISK_FULL
    execution.problem = CellProblem(
        cell,
        "disk_full",
        f"{event}: {reason}",
        problem.line if problem else "",
        problem.line_number if problem else None,
    )


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
        execution.hidden_failures.append(HiddenFailure(name, exc.ename, exc.evalue))
    finally:
        del cells[index]
