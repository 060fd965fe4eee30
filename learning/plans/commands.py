"""`hongfan recommender evaluate`: the offline evaluation on the academy's own data."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from learning.plans.frames import training_data
from learning.timeutil import local_today
from learning.plans.queries import MEMBER_ATTRIBUTES
from recommender.evaluation import SPLITS, default_models, evaluate
from recommender.synthetic import generate_academy


@click.command("evaluate")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the results as JSON here.")
@click.option("--splits", default=",".join(SPLITS), show_default=True,
              help="Comma-separated: latest (leave-latest-out), cold_start, new_course.")
@click.option("--ablation/--no-ablation", default=True, show_default=True,
              help="Also run the model with each of its parts switched off.")
@click.option("--max-members", default=2_000, show_default=True, type=click.IntRange(min=1),
              help="Test members per split (per fold).")
@click.option("--synthetic", metavar="MEMBERS,COURSES,COMPLETIONS",
              help="Evaluate on a generated academy (recommender/synthetic.py) instead of the database.")
@click.option("--seed", default=0, show_default=True, type=int)
@with_appcontext
def evaluate_command(out: str | None, splits: str, ablation: bool, max_members: int, synthetic: str | None,
                     seed: int) -> None:
    """Evaluate the recommender on the database's completions next to the baselines (global
    popularity, popularity within age band × occupation, item-kNN, EASE), fitted on the same
    splits in this process: HR@10 and NDCG@10 against 99 sampled courses (every unseen course on
    a smaller catalogue, as the notes say), recall@20 over the catalogue, coverage@10. Prints the
    table; --out writes JSON."""
    chosen = [s.strip() for s in splits.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SPLITS))
    if unknown or not chosen:
        raise click.BadParameter(f"choose from {', '.join(SPLITS)}", param_hint="--splits")
    if synthetic is not None:
        interactions, members, courses, attributes = _synthetic(synthetic, seed)
        click.echo(f"data: generated academy {synthetic} (seed {seed})", err=True)
    else:
        data = training_data(local_today().year)
        interactions, members, courses, attributes = data.interactions, data.members, data.courses, MEMBER_ATTRIBUTES
        click.echo(f"data: {data.summary()}", err=True)
    if interactions["member_id"].nunique() < 2:
        raise click.ClickException("too few members with completions to evaluate")
    # the model as `hongfan recommender train` ships it, next to its ablations and the baselines
    models = default_models(seed, ablation, member_attributes=attributes)
    evaluate(interactions, members, courses, output=out, splits=chosen, models=models,
             max_test_members=max_members, random_state=seed,
             log=lambda line: click.echo(line, err=True))
    if out:
        click.echo(f"wrote {out}", err=True)


def _synthetic(sizes: str, seed: int):
    try:
        n_members, n_courses, n_completions = (int(x) for x in sizes.split(","))
        academy = generate_academy(n_members, n_courses, n_completions, random_state=seed)
    except ValueError as error:
        raise click.BadParameter(f"MEMBERS,COURSES,COMPLETIONS, e.g. 20000,500,300000 ({error})",
                                 param_hint="--synthetic") from error
    members = academy.members.drop(columns=["joined_on", "left_on"])
    return academy.interactions, members, academy.courses, "auto"
