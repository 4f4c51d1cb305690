from dataclasses import replace

import numpy as np
import pytest
import torch

from dmf_core.config import ModelConfig
from dmf_core.data.split import TEST, VAL, split_areas
from dmf_core.model.biases import fit_biases
from dmf_core.model.inputs import MatrixInputs, SparseRows, single_row
from dmf_core.model.network import BitDropout, DMFNet, sparse_linear
from dmf_core.scoring.predict import Predictor
from dmf_core.training.calibration import calibrate


def dense(rows: SparseRows) -> torch.Tensor:
    matrix = torch.zeros(rows.n_rows, rows.n_cols)
    row_index = torch.repeat_interleave(torch.arange(rows.n_rows), rows.indptr[1:] - rows.indptr[:-1])
    matrix[row_index, rows.indices] = rows.values
    return matrix


@pytest.mark.parametrize("encoding", ["rating", "centered+implicit"])
@pytest.mark.parametrize("normalize", [False, True])
def test_sparse_first_layer_equals_dense_matmul(tiny_data, encoding, normalize):
    split = split_areas(tiny_data)
    inputs = MatrixInputs.from_split(tiny_data, split)
    model = DMFNet(tiny_data.n_users, tiny_data.n_items, ModelConfig(hidden=(16, 8), input_encoding=encoding,
                                                                  normalize_input=normalize))
    layer = model.user_branch.first
    rows = torch.tensor([0, 5, 7, 33])
    got = layer(inputs.user_rows.gather(rows))

    x = dense(inputs.user_rows)[rows]
    present = (x != 0) | _present_mask(inputs.user_rows, rows)
    values = x * 2 + 3 if encoding == "rating" else x
    values = values * present
    scale = present.sum(1, keepdim=True).clamp_min(1).rsqrt() if normalize else torch.ones(len(rows), 1)
    weight = layer.bag.weight
    expected = (values * scale) @ weight[: tiny_data.n_items] + layer.bias
    if encoding == "centered+implicit":
        expected = expected + (present.float() * scale) @ weight[tiny_data.n_items :]
    assert torch.allclose(got, expected, atol=1e-5)


def _present_mask(rows: SparseRows, selected: torch.Tensor) -> torch.Tensor:
    mask = torch.zeros(rows.n_rows, rows.n_cols, dtype=torch.bool)
    row_index = torch.repeat_interleave(torch.arange(rows.n_rows), rows.indptr[1:] - rows.indptr[:-1])
    mask[row_index, rows.indices] = True
    return mask[selected]


def test_the_cosine_output_is_the_papers_formula(tiny_data):
    """output="cosine": r̂ = mid + half·cos(U_i, V_j) for every pair, with unit-length factors (so the prediction
    needs no clamp to stay on the scale: the formula keeps it there)."""
    split = split_areas(tiny_data)
    inputs = MatrixInputs.from_split(tiny_data, split)
    model = DMFNet(tiny_data.n_users, tiny_data.n_items, ModelConfig(hidden=(16, 8), output="cosine")).eval()
    predictor = Predictor.build(model, inputs)
    assert torch.allclose(predictor.user_factors.norm(dim=1), torch.ones(tiny_data.n_users), atol=1e-5)
    users = np.repeat(np.arange(tiny_data.n_users), tiny_data.n_items)
    items = np.tile(np.arange(tiny_data.n_items), tiny_data.n_users)
    cosine = (predictor.user_factors[users] * predictor.item_factors[items]).sum(-1).numpy()
    assert np.allclose(predictor.continuous(users, items), 3.0 + 2.0 * cosine, atol=1e-5)


def test_the_cosine_weight_for_new_rows_is_fitted_on_validation_ratings_only(tiny_data):
    """calibrate recovers the weight the validation ratings of areas II and III were made with, and no test rating
    moves it."""
    split = split_areas(tiny_data)
    inputs = MatrixInputs.from_split(tiny_data, split)
    model = DMFNet(tiny_data.n_users, tiny_data.n_items, ModelConfig(hidden=(16, 8))).eval()
    model.set_biases(fit_biases(tiny_data, split))
    predictor = Predictor.build(model, inputs)
    users, items = torch.as_tensor(tiny_data.users), torch.as_tensor(tiny_data.items)
    with torch.no_grad():
        cosine = (predictor.user_factors[users] * predictor.item_factors[items]).sum(-1)
        base = model.base(users, items)
    made = {1: 0.3, 2: 0.8}  # area II's ratings follow ρ = 0.3, area III's ρ = 0.8
    ratings = tiny_data.ratings.astype(np.float64).copy()
    for area, rho in made.items():
        selected = (split.role == VAL) & (split.area == area)
        ratings[selected] = (base + rho * 2.0 * cosine).numpy()[selected]
    crafted = replace(tiny_data, ratings=ratings.astype(np.float32))
    weights = calibrate(model, predictor, crafted, split)
    assert weights["new_user_weight"] == pytest.approx(0.3, abs=1e-4)
    assert weights["new_item_weight"] == pytest.approx(0.8, abs=1e-4)
    flipped = replace(crafted, ratings=np.where(split.role == TEST, 6.0 - crafted.ratings, crafted.ratings)
                      .astype(np.float32))
    assert calibrate(model, predictor, flipped, split) == weights
    # The weights are the model's: a new user's prediction uses ρ_users, a new × new pair the product.
    new_user = int(np.flatnonzero(split.new_user)[0])
    new_item = int(np.flatnonzero(split.new_item)[0])
    assert float(model.user_weight[new_user]) == pytest.approx(0.3, abs=1e-4)
    assert float(model.user_weight[new_user] * model.item_weight[new_item]) == pytest.approx(0.24, abs=1e-4)


@pytest.mark.parametrize("output", ["cosine", "bias+cosine"])
def test_new_user_row_gives_the_same_scores_as_the_matrix_row(tiny_data, output):
    """A seen user's row fed as a new user scores the same: for bias+cosine, the bias folded in from the row equals
    the fitted one (fit_biases ends with a user pass on exactly those ratings)."""
    split = split_areas(tiny_data)
    inputs = MatrixInputs.from_split(tiny_data, split)
    model = DMFNet(tiny_data.n_users, tiny_data.n_items, ModelConfig(hidden=(16, 8), output=output)).eval()
    model.set_biases(fit_biases(tiny_data, split))
    predictor = Predictor.build(model, inputs)
    user = int(np.flatnonzero(~split.new_user)[4])
    start, end = inputs.user_rows.indptr[user].item(), inputs.user_rows.indptr[user + 1].item()
    cols = inputs.user_rows.indices[start:end].numpy()
    ratings = inputs.user_rows.values[start:end].numpy() * 2 + 3
    row = single_row(cols, ratings, tiny_data.n_items, tiny_data.rating_scale)
    scores = predictor.new_user_scores(row)
    items = np.arange(tiny_data.n_items)
    assert np.allclose(scores, predictor.continuous(np.full_like(items, user), items), atol=1e-5)


def test_gather_preserves_row_order_and_handles_empty_rows():
    rows = SparseRows.from_coo(np.array([0, 0, 2]), np.array([1, 3, 0]), np.array([0.5, -1.0, 1.0]), 3, 4)
    batch = rows.gather(torch.tensor([2, 1, 0]))
    assert batch.bags.tolist() == [0, 2, 2]
    assert batch.indices.tolist() == [0, 1, 3]
    assert batch.counts().tolist() == [1, 0, 2]


def test_invalid_model_settings_are_rejected():
    with pytest.raises(ValueError):
        ModelConfig(hidden=()).validate()
    with pytest.raises(ValueError):
        ModelConfig(dropout=1.0).validate()


def test_sparse_first_layer_gradient_equals_embedding_bags_own():
    """The first layer's faster CPU backward (an EmbeddingBag over the entries grouped by column) gives the same
    weight gradient as EmbeddingBag's own backward, empty bags and unused columns included."""
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(50, 8, generator=generator, requires_grad=True)
    indices = torch.randint(0, 45, (300,), generator=generator)
    bags = torch.sort(torch.randint(0, 20, (300,), generator=generator)).values
    counts = torch.bincount(bags, minlength=22)
    offsets = torch.cumsum(counts, 0) - counts
    values = torch.rand(300, generator=generator)
    grad = torch.randn(22, 8, generator=generator)
    ours = sparse_linear(weight, indices, offsets, values, bags)
    theirs = torch.nn.functional.embedding_bag(indices, weight, offsets, mode="sum", per_sample_weights=values)
    assert torch.allclose(ours, theirs)
    assert torch.allclose(torch.autograd.grad(ours, weight, grad)[0], torch.autograd.grad(theirs, weight, grad)[0],
                          atol=1e-5)


@pytest.mark.parametrize("p", [0.25, 0.5, 0.8])
def test_bit_dropout_drops_the_share_asked_and_keeps_the_expectation(p):
    torch.manual_seed(0)
    layer = BitDropout(p)
    out = layer(torch.ones(1000, 512))
    assert abs((out == 0).float().mean().item() - p) < 0.005
    assert abs(out.mean().item() - 1.0) < 0.02
    assert torch.equal(layer.eval()(torch.ones(4, 3)), torch.ones(4, 3))
