"""Command line: `python -m dmf_core {train,evaluate,info,download,reproduce,recommend,predict,rank-eval} ...`; run with
--help for every flag.

Errors print one line (`error: ...`) to stderr and exit non-zero: 2 for bad input, 1 for a failed run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

from ..config import (
    Activation,
    Companion,
    InputEncoding,
    LambdaSchedule,
    ModelConfig,
    ModelKind,
    Output,
    QuantizerConfig,
    QuantizerFinish,
    SplitConfig,
    TrainConfig,
    parse_hidden,
)
from ..data import load_dataset, parse_rating_scale
from ..data.download import NAMES, download_movielens
from ..data.split import split_areas
from ..device import pick_device
from ..errors import one_line
from ..files import write_json
from ..flags import AUTO, FLAGS, configs_from_flags
from ..progress import ProgressBar
from ..reproduction.runner import add_parser as add_reproduce_parser
from ..runs import checkpoint as ckpt
from ..runs.folder import (
    CHECKPOINT_FILE,
    METRICS_FILE,
    check_run,
    data_decided,
    evaluate_checkpoint,
    refuse_interrupted,
    resume_run,
    train_run,
)
from ..scoring.observed import data_reference
from ..training.companion import describe as describe_companion
from ..training.derive import CHUNKS_PER_SIDE, DataShape, derive
from ..training.phases import kept_start_reason
from .library import add_parsers as add_library_parsers

DEFAULTS_MODEL = ModelConfig()
DEFAULTS_TRAIN = TrainConfig()
DEFAULTS_SPLIT = SplitConfig()
DEFAULTS_QUANT = QuantizerConfig()
DEFAULT_OUT = "runs/latest"


def _hidden(text: str) -> tuple[int, ...]:
    try:
        return parse_hidden(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _count_or_auto(text: str) -> int | str:
    """A whole number, or the word `auto` (the config's None: decided by the data or the run)."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or '{AUTO}', got {text!r}") from None


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


def _scale(text: str) -> tuple[float, ...]:
    try:
        return parse_rating_scale(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_data_arg(parser: argparse.ArgumentParser, default: str | None = "demo") -> None:
    parser.add_argument(
        "--data",
        default=default,
        help="'demo' (built-in generated data, default), 'ml-100k', 'ml-1m', 'ml-10m', 'ml-20m', 'ml-25m' (downloaded "
        "copy, $DMF_ML25M_DIR and the like, or ../shared/data/<name>), "
        "or a path to a MovieLens folder/zip, ratings.dat, u.data, or a CSV/TSV of user,item,rating"
        + ("; with --resume, the checkpoint's data by default" if default is None else ""),
    )
    parser.add_argument("--rating-scale", type=_scale, default=None, metavar="LOW:HIGH[:STEP]",
                        help="the ratings' scale, e.g. 1:10 or 0.5:5:0.5 (default: read from the data; for a "
                        "checkpoint, the scale it was trained with)")


def _add_quantizer_args(train: argparse.ArgumentParser) -> None:
    """DMF-D's flags: the λ schedule, the warm-up, the boundary penalty, the quantizer phase and its finish."""
    train.add_argument("--lambda-start", type=float, help=f"DMF-D: initial λ (default {DEFAULTS_QUANT.lambda_start})")
    train.add_argument("--lambda-growth", type=float, help=f"DMF-D: λ multiplier per epoch (default "
                       f"{DEFAULTS_QUANT.lambda_growth}); with --lambda-schedule step, per step_every epochs")
    train.add_argument("--lambda-max", type=float, help=f"DMF-D: cap on λ (default {DEFAULTS_QUANT.lambda_max:g})")
    train.add_argument("--lambda-schedule", choices=get_args(LambdaSchedule), help="DMF-D: λ growth schedule (default exp)")
    train.add_argument("--warmup-epochs", type=_count_or_auto, help="DMF-D: epochs of plain DMF training before the "
                       "quantizer is switched on, or 'auto' (the default): until plain DMF's validation RMSE stops "
                       "improving, then from its best weights")
    train.add_argument("--gamma2", type=float, help=f"DMF-D: weight of the boundary penalty (default "
                       f"{DEFAULTS_QUANT.gamma2})")
    train.add_argument("--network-lr-scale", type=float, help="DMF-D: the network's learning rate in the quantizer "
                       "phase, as a share of the run's rate when it starts; 0 freezes the network, 1 trains it jointly "
                       f"at full rate (default {DEFAULTS_QUANT.network_lr_scale:g})")
    train.add_argument("--quantizer-finish", choices=get_args(QuantizerFinish), help="DMF-D: learned: keep the trained "
                       "boundaries b; fitted: refit b on the validation ratings by least squares after selection "
                       f"(default {DEFAULTS_QUANT.finish})")
    train.add_argument("--select-margin", type=float, help="DMF-D: standard errors by which a quantizer epoch must "
                       "beat the quantizer's start (DMF + rounding) on validation, rating by rating, to be selected "
                       f"over it; 0 selects the lowest validation RMSE (default {DEFAULTS_QUANT.select_margin:g})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dmf_core",
        description="Deep Matrix Factorisation (DMF) and discrete DMF-D: train, evaluate per extension area "
        "(I seen×seen, II new users, III new items, IV new×new), download MovieLens-1M.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train DMF or DMF-D and write metrics.json + checkpoint.pt",
                           description="Train a model, score it per area on the test ratings, write DIR/metrics.json "
                           "and DIR/checkpoint.pt. A progress bar goes to stderr.")
    _add_data_arg(train, default=None)
    train.add_argument("--model", choices=get_args(ModelKind), default="dmf",
                       help="dmf: continuous cosine model; dmf-d: with the learned sigmoid quantizer (default dmf)")
    train.add_argument("--preset", choices=["default", "authors"], default="default",
                       help="'authors' uses the settings of the authors' TensorFlow code ([2048,1024], lr 1e-2, ...); "
                       "flags given explicitly still override it")
    train.add_argument("--epochs", type=int, help=f"maximum epochs (default {DEFAULTS_TRAIN.epochs})")
    train.add_argument("--new-users", type=_fraction, default=DEFAULTS_SPLIT.new_user_frac,
                       help=f"fraction of users held out as new, areas II/IV (default {DEFAULTS_SPLIT.new_user_frac})")
    train.add_argument("--new-items", type=_fraction, default=DEFAULTS_SPLIT.new_item_frac,
                       help=f"fraction of items held out as new, areas III/IV (default {DEFAULTS_SPLIT.new_item_frac}); "
                       "0 and 0 give the paper's Table 2 protocol")
    train.add_argument("--val-frac", type=_fraction, default=DEFAULTS_SPLIT.val_frac,
                       help=f"share of the ratings kept for validation, to select the model on (default "
                       f"{DEFAULTS_SPLIT.val_frac})")
    train.add_argument("--test-frac", type=_fraction, default=DEFAULTS_SPLIT.test_frac,
                       help=f"share of the ratings kept for the test scores (default {DEFAULTS_SPLIT.test_frac}; 0: "
                       "none, as the library's DMF().fit); the rest is observed: training targets and model inputs")
    train.add_argument("--seed", type=int, default=0, help="seed of the split and of training (default 0)")
    train.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    train.add_argument("--max-seconds", type=float, help="stop training after this many seconds (time budget)")
    train.add_argument("--out", help=f"output folder (default {DEFAULT_OUT}; with --resume, the checkpoint's folder). "
                       "A checkpoint is written there after every epoch (every few on large data), so a crashed run can be resumed")
    train.add_argument("--hidden", type=_hidden, help=f"layer sizes per branch, e.g. 512,256 (default "
                       f"{','.join(map(str, DEFAULTS_MODEL.hidden))}); the last is the latent dimension")
    train.add_argument("--activation", choices=get_args(Activation),
                       help=f"non-linearity after every hidden layer (default {DEFAULTS_MODEL.activation})")
    train.add_argument("--input-encoding", choices=get_args(InputEncoding),
                       help=f"how a rating row enters the first layer (default {DEFAULTS_MODEL.input_encoding}); "
                       "rating: raw stars as in the paper")
    train.add_argument("--dropout", type=float, help=f"dropout rate (default {DEFAULTS_MODEL.dropout})")
    train.add_argument("--lr", type=float, help=f"Adam learning rate (default {DEFAULTS_TRAIN.lr})")
    train.add_argument("--weight-decay", type=float, help="l2 penalty γ1 (default 0)")
    train.add_argument("--block-users", type=_count_or_auto, help=f"users per training block, or '{AUTO}' (the "
                       f"default: derived from the data, seen users / {CHUNKS_PER_SIDE}; see dmf_core/training/derive.py)")
    train.add_argument("--block-items", type=_count_or_auto, help=f"items per training block, or '{AUTO}' (the "
                       f"default: derived from the data, seen items / {CHUNKS_PER_SIDE})")
    train.add_argument("--input-dropout", type=float, help="share of input entries hidden at random in each "
                       f"training step (default {DEFAULTS_TRAIN.input_dropout})")
    train.add_argument("--output", choices=get_args(Output), help="bias+cosine (default): global mean + "
                       "user and item biases + the cosine; cosine: the paper's exact model")
    train.add_argument("--companion", choices=get_args(Companion), help="none (default): DMF alone, the paper's model. "
                       "i-autorec (--model dmf): then an I-AutoRec on the same ratings, blended with DMF for seen users "
                       "x seen items (area I), weights fitted on validation; ML-1M area I 0.8236 against 0.8313, for "
                       "about 40%% more time (docs/literature.md)")
    train.add_argument("--patience", type=int, help=f"early-stopping patience in epochs, 0 = off "
                       f"(default {DEFAULTS_TRAIN.patience})")
    _add_quantizer_args(train)
    train.add_argument("--resume", metavar="RUN", help="continue an interrupted run (a crash, a kill) from its folder or "
                       "checkpoint.pt, exactly where it stopped (a finished run is not resumed). Its settings and split come from the "
                       "checkpoint; only --epochs, --max-seconds and --device may change, and --data must be the "
                       "same ratings (checked by fingerprint)")
    train.add_argument("--check", action="store_true", help="check every setting against the data (and the device) "
                       "and print what the data decides, without training")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    evaluate = sub.add_parser("evaluate", help="re-score a checkpoint per area",
                              description="Load CKPT, rebuild its split from the stored seed and fractions, and print "
                              "(or write) the same metrics as train.")
    evaluate.add_argument("checkpoint", metavar="CKPT", help="path to a checkpoint.pt")
    _add_data_arg(evaluate)
    evaluate.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    evaluate.add_argument("--out", help="write the metrics JSON here instead of printing a summary")

    info = sub.add_parser("info", help="dataset size and ratings per area and role for a split")
    _add_data_arg(info)
    info.add_argument("--new-users", type=_fraction, default=DEFAULTS_SPLIT.new_user_frac)
    info.add_argument("--new-items", type=_fraction, default=DEFAULTS_SPLIT.new_item_frac)
    info.add_argument("--seed", type=int, default=0)

    download = sub.add_parser("download", help="download a MovieLens release from GroupLens (checksum-verified) "
                              "into data/<name>")
    download.add_argument("--dataset", choices=NAMES, default="ml-1m", help="which release (default: ml-1m)")
    download.add_argument("--data-dir", default=None, help="target folder (default: the project's data/)")
    download.add_argument("--force", action="store_true", help="download again even if data/<name> exists")
    download.add_argument("--url", default=None, help="a mirror of the zip (the checksums still apply)")

    add_library_parsers(sub)  # registers "recommend", "predict" and "rank-eval", each with its `handler`
    add_reproduce_parser(sub)  # registers the "reproduce" command and its `handler`
    return parser


def _configs_from_args(args: argparse.Namespace) -> tuple[SplitConfig, ModelConfig, TrainConfig]:
    return configs_from_flags(**{k: v for k, v in vars(args).items() if k in FLAGS})


def format_areas(metrics: dict[str, Any]) -> str:
    """Test scores per area, with global mean + biases on the same ratings beside them where the run has them."""
    baseline = (metrics.get("baseline") or {}).get("areas") or {}
    lines = ["area      n      RMSE    MAE" + ("   | mean + biases RMSE" if baseline else "")]
    for area, row in metrics["areas"].items():
        if row is None:
            lines.append(f"{area:<5} {'-':>7}      -      -")
        else:
            base = baseline.get(area)
            lines.append(f"{area:<5} {row['n']:>7}  {row['rmse']:.4f} {row['mae']:.4f}"
                         + (f"   | {base['rmse']:.4f}" if base else ""))
    quantizer = metrics.get("quantizer") or {}
    if quantizer and not quantizer.get("trained"):
        lines.append(f"DMF-D: {quantizer['note']}")
    elif quantizer:
        lines.append(f"DMF-D: {quantizer['epochs']} quantizer epoch(s) after {quantizer['warmup_epochs']} warm-up "
                     f"epoch(s), λ reached {quantizer['lambda']:.4g}")
        if quantizer.get("selected_start"):
            reason = kept_start_reason(quantizer)
            lines.append("DMF-D: validation kept the quantizer's start (the warm-up's weights, b at the midpoints)"
                         + (f"; {reason}" if reason else "") + (
                             ": the discrete scores below use the refitted b" if quantizer.get("finish") == "fitted"
                             else ": this model is DMF + rounding, and the discrete scores below equal the rounded "
                                  "ones"))
    if metrics.get("discrete"):
        lines.append("discrete (DMF-D, hard Q_b)   RMSE    MAE    acc   | rounded: RMSE    MAE    acc")
        for area, row in metrics["discrete"].items():
            rounded = metrics["rounded"][area]
            if row is not None and rounded is not None:
                lines.append(
                    f"{area:<5} {row['n']:>22}  {row['rmse']:.4f} {row['mae']:.4f} {row['accuracy']:.3f} |"
                    f"          {rounded['rmse']:.4f} {rounded['mae']:.4f} {rounded['accuracy']:.3f}"
                )
    return "\n".join(lines)


def _checkpoint_path(run: str) -> Path:
    path = Path(run)
    return path / CHECKPOINT_FILE if path.is_dir() else path


def _data_of(checkpoint: dict[str, Any], given: str | None) -> str:
    """--data for a resumed run: as given, else the built-in data the checkpoint names."""
    reference = given or data_reference(checkpoint)
    if reference is None:
        raise ValueError(f"the checkpoint was trained on {checkpoint['dataset']['name']!r}: give its ratings with --data")
    return reference


def _report(metrics: dict[str, Any], data: Any, out: Path, result: Any) -> int:
    val = metrics["val_rmse"]
    blended = (metrics.get("companion") or {}).get("trained")
    label = metrics["model"].upper() + (" + I-AutoRec" if blended else "")  # "DMF", "DMF-D", "DMF + I-AutoRec"
    print(f"{label} on {data.name}: {metrics['epochs_run']} epochs in {metrics['train_seconds']:.1f}s "
          f"on {metrics['device']} ({metrics['stop_reason']}); selected epoch {metrics['best_epoch']}: "
          + (f"{metrics['val_rmse_kind']} validation RMSE {val:.4f}" if val is not None else "no validation RMSE"))
    if data_decided(metrics):
        print(data_decided(metrics))
    if describe_companion(metrics.get("companion")):
        print(describe_companion(metrics.get("companion")))
    print(format_areas(metrics))
    print(f"wrote {out / METRICS_FILE} and {out / CHECKPOINT_FILE}")
    if result.stop_reason == "diverged":
        print(f"error: {result.message}", file=sys.stderr)
        return 1
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    if args.resume:
        return _resume(args)
    split_config, model_config, train_config = _configs_from_args(args)
    out = Path(args.out or DEFAULT_OUT)
    refuse_interrupted(out)
    data = load_dataset(args.data or "demo", rating_scale=args.rating_scale)
    if args.check:  # otherwise train_run checks them, once
        split = check_run(data, split_config, model_config, train_config)
        as_trained, derived = derive(train_config, DataShape.of(split))
        decided = "; ".join(f"{name} = {getattr(as_trained, name)} ({rule})" for name, rule in derived.items())
        print(f"settings OK for {data.name} ({data.n_ratings:,} ratings) on {pick_device(train_config.device)}"
              + (f"; derived from the data: {decided}" if decided else ""))
        return 0
    bar = None if args.quiet else ProgressBar(train_config.epochs)
    metrics, result = train_run(data, split_config, model_config, train_config, out,
                                on_step=bar.step if bar else None, on_epoch=bar.epoch_done if bar else None,
                                on_companion=bar.companion if bar else None)
    if bar is not None:
        bar.end_line()
    return _report(metrics, data, out, result)


def _resume(args: argparse.Namespace) -> int:
    path = _checkpoint_path(args.resume)
    checkpoint = ckpt.load(path)
    ckpt.loop_state(checkpoint)  # a finished run, or one that cannot be resumed exactly, is refused in one line
    data = load_dataset(_data_of(checkpoint, args.data),
                        rating_scale=args.rating_scale or ckpt.stored_scale(checkpoint))
    out = Path(args.out) if args.out else path.parent
    epochs = args.epochs or checkpoint["train_config"]["epochs"]
    print(f"resuming the interrupted run {path} after epoch {len(checkpoint['history'])} of {epochs}: its settings and "
          "split come from the checkpoint", file=sys.stderr)
    if args.check:
        ckpt.check_matches(checkpoint, data, str(path))
        print(f"settings OK: {path} matches {data.name} ({data.n_ratings:,} ratings)")
        return 0
    bar = None if args.quiet else ProgressBar(epochs)
    if bar is not None:
        bar.epoch = len(checkpoint["history"]) + 1
    metrics, result = resume_run(checkpoint, data, out, epochs=args.epochs, max_seconds=args.max_seconds,
                                 device=args.device, on_step=bar.step if bar else None,
                                 on_epoch=bar.epoch_done if bar else None,
                                 on_companion=bar.companion if bar else None)
    if bar is not None:
        bar.end_line()
    return _report(metrics, data, out, result)


def cmd_evaluate(args: argparse.Namespace) -> int:
    checkpoint = ckpt.load(args.checkpoint)
    data = load_dataset(args.data, rating_scale=args.rating_scale or ckpt.stored_scale(checkpoint))
    metrics = evaluate_checkpoint(checkpoint, data, args.device)
    if args.out:
        write_json(metrics, Path(args.out))
        print(f"wrote {args.out}")
    else:
        print(format_areas(metrics))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    data = load_dataset(args.data, rating_scale=args.rating_scale)
    split = split_areas(data, SplitConfig(new_user_frac=args.new_users, new_item_frac=args.new_items, seed=args.seed))
    print(json.dumps({"dataset": data.summary(), "counts": split.counts()}, indent=1))
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    bar = ProgressBar(what=f"downloading {args.dataset}.zip")
    kwargs = {"data_dir": Path(args.data_dir)} if args.data_dir else {}
    folder = download_movielens(args.dataset, progress=bar.transfer, url=args.url, force=args.force, **kwargs)
    bar.close()
    print(f"MovieLens-{args.dataset.removeprefix('ml-').upper()} ready in {folder}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "info": cmd_info,
    "download": cmd_download,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = COMMANDS.get(args.command) or getattr(args, "handler", None)
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("\nerror: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as error:  # DataError, CheckpointError and config errors are ValueErrors
        print(f"\nerror: {one_line(error)}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # TrainingDiverged and device failures
        print(f"\nerror: {one_line(error)}", file=sys.stderr)
        return 1
