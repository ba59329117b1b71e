"""The command line: ``python -m speedrun train`` and friends.

Shows what the talk showed: a progress bar, periodic accuracy and cost,
the ASCII chart of the history, the final validation accuracy, a few
validation digits with prediction and label, and the confusions. With
rich installed the progress and tables are drawn by rich; on a bare
interpreter (Debian's ``pypy3`` has no packages) the same information
comes as plain text. A user mistake ends in one ``ERROR:`` line and exit
status 1.
"""

import argparse
import os
import shutil
import signal
import sys

from speedrun import compare, display, files, report, results
from speedrun.dataset import DatasetError, load_dataset
from speedrun.engines import ENGINES, EngineUnavailable, get_engine
from speedrun.idx import IdxError
from speedrun.training import (EPOCHS, LEARNING_RATE, Diverged, interpreter,
                               train_run)

LOG_EVERY = 5000  # steps between two printed accuracy/cost lines


class UserError(Exception):
    """A mistake in what the user asked for; the message says which."""


def add_train_arguments(parser):
    parser.add_argument("--engine", default="talk", choices=sorted(ENGINES),
                        help="trainer to use (default: talk, the talk's code)")
    parser.add_argument("--epochs", type=int, default=EPOCHS,
                        help=f"passes over the draws (default: {EPOCHS})")
    parser.add_argument("--seed", type=int, default=0,
                        help="fixes initial weights and draws (default: 0)")
    parser.add_argument("--lr", type=float, default=LEARNING_RATE,
                        help=f"learning rate (default: {LEARNING_RATE})")
    parser.add_argument("--train-limit", type=int, metavar="N",
                        help="N draws per epoch instead of one per "
                             "training image (60,000 for MNIST)")
    parser.add_argument("--data", metavar="DIR",
                        help="folder with the four IDX files "
                             "(default: the MNIST copy shipped inside)")
    parser.add_argument("--json", metavar="FILE",
                        help="write the run's figures to FILE")
    parser.add_argument("--showcase", type=int, default=3, metavar="K",
                        help="draw K validation digits (default: 3)")
    parser.add_argument("--no-monitor", action="store_true",
                        help="skip the accuracy checks every 500 steps")
    parser.add_argument("--plots", metavar="DIR",
                        help="write learning-curve and error charts to DIR "
                             "(needs matplotlib)")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the final accuracy")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="speedrun",
        description="The talk's MNIST speedrun, timed under any "
                    "interpreter.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    train = commands.add_parser(
        "train", help="train the softmax model and show what the talk showed")
    add_train_arguments(train)
    train.set_defaults(handler=cmd_train)
    for name, (help_text, add_arguments, handler) in EXTRA_COMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        add_arguments(sub)
        sub.set_defaults(handler=handler)
    return parser


# The front ends that read result files: name -> (help,
# add_arguments(parser), handler(args) -> exit status).
EXTRA_COMMANDS = {"report": report.COMMAND, "compare": compare.COMMAND}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args) or 0
    except (UserError, IdxError, DatasetError, EngineUnavailable,
            Diverged, results.ResultError, OSError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"ERROR: interrupted{f' ({exc})' if str(exc) else ''}",
              file=sys.stderr)
        return 1


def cmd_train(args):
    _check_train_arguments(args)
    engine = get_engine(args.engine)
    if args.json:
        files.check_writable(args.json)
    if args.plots:
        files.check_folder_writable(args.plots)
    signal.signal(signal.SIGTERM, _interrupt)
    out = Output(quiet=args.quiet)
    dataset = load_dataset(args.data)
    for warning in dataset.warnings:
        out.warn(warning)
    out.header(engine, dataset, args)

    state = {}
    try:
        with out.progress(args.epochs, args.train_limit
                          or dataset.train_images.count) as advance:
            run = train_run(engine, dataset, seed=args.seed,
                            epochs=args.epochs, lr=args.lr,
                            steps=args.train_limit,
                            monitor=not args.no_monitor,
                            on_chunk=_tracker(state, advance, out))
    except (Diverged, KeyboardInterrupt) as exc:
        _save_partial(args, dataset, getattr(exc, "run", state.get("run")),
                      exc)
        raise
    out.result(run, dataset, args.showcase)
    if args.json:
        files.write_json(args.json, _payload(run, dataset, "complete"))
    if args.plots:
        _write_plots(run, dataset, args.plots, out)
    return 0


def _interrupt(signum, frame):
    """SIGTERM (a CI runner stopping the job) ends the run as Ctrl-C does."""
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def _check_train_arguments(args):
    if args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {args.epochs}")
    if args.train_limit is not None and args.train_limit < 1:
        raise UserError(
            f"--train-limit must be at least 1, got {args.train_limit}")
    if not args.lr > 0 or args.lr == float("inf"):
        raise UserError(f"--lr must be a positive number, got {args.lr}")
    if args.showcase < 0:
        raise UserError(f"--showcase must be 0 or more, got {args.showcase}")


def _tracker(state, advance, out):
    def on_chunk(run, epoch, step):
        state["run"] = run
        advance(epoch, step)
        if step % LOG_EVERY == 0 or step == run.steps:
            out.history_line(run.history[-1] if run.history else None,
                             epoch, step)
    return on_chunk


def _payload(run, dataset, status):
    payload = run.to_dict() if run.weights is not None else _partial(run)
    payload["status"] = status
    payload["dataset"] = dataset.describe()
    return payload


def _partial(run):
    return {"engine": run.engine, "seed": run.seed, "lr": run.lr,
            "epochs": run.epochs, "steps_per_epoch": run.steps,
            "stage_seconds": run.stage_seconds, "history": run.history,
            "interpreter": interpreter()}


def _save_partial(args, dataset, run, exc):
    """Keep what an interrupted or diverged run had computed."""
    if not args.json or run is None:
        return
    status = "diverged" if isinstance(exc, Diverged) else "interrupted"
    payload = _payload(run, dataset, status)
    payload["error"] = str(exc) or status
    files.write_json(args.json, payload)
    print(f"partial run ({status}) written to {args.json}")


def _write_plots(run, dataset, folder, out):
    from speedrun import plots  # imports matplotlib only when drawing

    try:
        paths = plots.run_charts(run, dataset, folder)
    except ImportError as exc:
        out.warn(f"no charts written: {exc}")
        return
    for path in paths:
        out.note(f"wrote {path}")


class Output:
    """Where the command's words go: rich when installed, else print."""

    def __init__(self, quiet=False):
        self.quiet = quiet
        try:
            from rich.console import Console
        except ImportError:
            self.console = None
        else:
            self.console = Console(stderr=False, highlight=False)

    def note(self, text):
        if not self.quiet:
            print(text)

    def warn(self, text):
        print(f"WARNING: {text}", file=sys.stderr)

    def header(self, engine, dataset, args):
        where = "packaged MNIST" if args.data is None else dataset.folder
        check = "checksums verified" if dataset.verified else "not verified"
        self.note(f"engine={engine.NAME} seed={args.seed} lr={args.lr:g} "
                  f"epochs={args.epochs} data={where} ({check})")

    def progress(self, epochs, steps):
        if self.quiet or self.console is None:
            return _PlainProgress(self.quiet, epochs, steps)
        return _RichProgress(self.console, epochs, steps)

    def history_line(self, point, epoch, step):
        if self.quiet:
            return
        if point is None:
            self.note(f"epoch={epoch} step={step}")
            return
        self.note(f"epoch={epoch} step={step} "
                  f"accuracy={point['accuracy']:.2f}% "
                  f"cost={point['cost']:.5f}")

    def result(self, run, dataset, showcase):
        if not self.quiet:
            self.note("")
            self.note(display.history_chart(run.history))
            self.note("")
            self._stages(run)
            self._showcase(run, dataset, showcase)
            self._confusions(run)
        print(f"validation accuracy: {run.validation_accuracy:.2f} % "
              f"({len(run.validation_labels)} images, engine {run.engine}, "
              f"weights {run.weights_fingerprint})")

    def _stages(self, run):
        seconds = run.stage_seconds
        epochs = ", ".join(f"{s:.2f}" for s in seconds["epochs"])
        self.note(f"time (s): load={seconds['load']:.2f} epochs=[{epochs}] "
                  f"monitor={seconds['monitor']:.2f} "
                  f"infer={seconds['infer']:.2f}")

    def _showcase(self, run, dataset, count):
        count = min(count, len(run.validation_labels))
        if count == 0:
            return
        images, captions = [], []
        size = dataset.pixels
        for n in range(count):
            index = dataset.test_count + n
            images.append(dataset.test_images.data[index * size:
                                                   (index + 1) * size])
            captions.append(f"prediction {run.validation_predictions[n]}, "
                            f"label {run.validation_labels[n]}")
        width = shutil.get_terminal_size().columns
        per_row = max(1, (width + 3) // (max(dataset.cols, 24) + 3))
        for start in range(0, count, per_row):
            self.note("")
            self.note(display.digits_side_by_side(
                images[start:start + per_row],
                captions[start:start + per_row], dataset.cols))

    def _confusions(self, run):
        matrix = run.confusion()
        header, rows = display.confusion_rows(matrix)
        self.note("")
        self.note("confusion on the validation part (rows: label, "
                  "columns: prediction, counts)")
        if self.console is not None:
            self.console.print(_rich_table(header, rows))
        else:
            self.note(display.plain_table(header, rows))
        pairs = display.most_confused(matrix)
        if pairs:
            self.note("most confused (label taken for prediction):")
            for label, guess, n in pairs:
                self.note(f"  {label} taken for {guess}: {n}×")


def _rich_table(header, rows):
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for index, title in enumerate(header):
        table.add_column(title, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


class _PlainProgress:
    """A progress line every tenth of the work, for bare interpreters."""

    def __init__(self, quiet, epochs, steps):
        self.quiet, self.epochs, self.steps = quiet, epochs, steps
        self.next_tenth = 1

    def __enter__(self):
        return self.advance

    def __exit__(self, *exc):
        return False

    def advance(self, epoch, step):
        done = (epoch - 1) * self.steps + step
        if self.quiet or done * 10 < self.next_tenth * self.epochs * self.steps:
            return
        self.next_tenth = done * 10 // (self.epochs * self.steps) + 1
        print(f"progress={100 * done // (self.epochs * self.steps)}% "
              f"epoch={epoch}/{self.epochs} step={step}/{self.steps}")


class _RichProgress:
    """A rich progress bar over all the steps of all the epochs."""

    def __init__(self, console, epochs, steps):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                                   TextColumn, TimeRemainingColumn)

        self.epochs, self.steps = epochs, steps
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("steps"),
                            TimeRemainingColumn(), console=console)
        self.task = None

    def __enter__(self):
        self.bar.__enter__()
        self.task = self.bar.add_task("epoch 1", total=self.epochs
                                      * self.steps)
        return self.advance

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def advance(self, epoch, step):
        done = (epoch - 1) * self.steps + step
        self.bar.update(self.task, completed=done,
                        description=f"epoch {epoch}/{self.epochs}")

