"""Top-N recommendation for people the model never trained on.

- `rankers`: the rankings, each from a person's ratings alone: the relevance that `DMF.recommend` sorts by, most
  popular, item-kNN and EASE;
- `protocol`: `rank_eval` (the command line's `rank-eval`), which holds users out and measures every ranker's top-N
  on them.

`rankers` sits under the library (`DMF.recommend` uses it); `protocol` trains through `DMF`, above it. This file
imports neither, so the package adds no import circle.
"""
