"""Graded tests for backprop.py, factor by factor, in the order the notes build the chain.

Each test calls one student function on inputs the grader draws (never on the output
of the student's other functions), so a wrong link term costs the link-term points and
nothing else. Only forward, backprop and two_neuron_backprop are graded end to end.
Regimes are separate tests, so partial credit means something: one column against a
batch, m = n against m ≠ n, one layer against three.
"""
from hypothesis import given
from hypothesis import strategies as hs

from autograder.strategies import batches, case, dims, networks, rectangular, square, ELEMENTWISE
from autograder.testing import check, graded
from inputs import (W_inputs, a_prev_inputs, column_z, dL_da_prev_inputs, dL_dW0_inputs, dL_dW_inputs,
                    dL_dz_inputs, forward_inputs, network_inputs, nll_inputs, square_loss_inputs,
                    two_neuron_inputs, z_inputs)
from reference import backprop as ref

ONE = hs.just(1)


# ---- the loss unit ∂L/∂a^L -----------------------------------------------------------

@graded("square_loss", "forward", "one column (b = 1)")
@given(case(n=dims(), b=ONE))
def test_square_loss_single(c):
    check(c, square_loss_inputs, "square_loss", ref.square_loss)


@graded("square_loss", "forward", "a batch (b > 1), summed over its columns")
@given(case(n=dims(), b=batches()))
def test_square_loss_batch(c):
    check(c, square_loss_inputs, "square_loss", ref.square_loss)


@graded("nll_loss", "forward", "a batch of one-hot columns")
@given(case(n=dims(2, 5), b=batches(1, 4)))
def test_nll_loss(c):
    check(c, nll_inputs, "nll_loss", ref.nll_loss)


@graded("square_loss_grad", "loss-unit", "one column (b = 1)")
@given(case(n=dims(), b=ONE))
def test_square_loss_grad_single(c):
    check(c, square_loss_inputs, "square_loss_grad", ref.square_loss_grad)


@graded("square_loss_grad", "loss-unit", "a batch (b > 1)")
@given(case(n=dims(), b=batches()))
def test_square_loss_grad_batch(c):
    check(c, square_loss_inputs, "square_loss_grad", ref.square_loss_grad)


@graded("nll_loss_grad", "loss-unit", "one-hot columns, softmax outputs")
@given(case(n=dims(2, 5), b=batches(1, 4)))
def test_nll_loss_grad(c):
    check(c, nll_inputs, "nll_loss_grad", ref.nll_loss_grad)


# ---- the within-layer term ∂a^ℓ/∂z^ℓ ---------------------------------------------------

@graded("sigmoid_grad", "within-layer", "z of shape (n, b)")
@given(case(n=dims(), b=batches(1, 4)))
def test_sigmoid_grad(c):
    check(c, z_inputs, "sigmoid_grad", ref.sigmoid_grad)


@graded("tanh_grad", "within-layer", "z of shape (n, b)")
@given(case(n=dims(), b=batches(1, 4)))
def test_tanh_grad(c):
    check(c, z_inputs, "tanh_grad", ref.tanh_grad)


@graded("relu_grad", "within-layer", "z of shape (n, b), no entry at the kink z = 0")
@given(case(n=dims(), b=batches(1, 4)))
def test_relu_grad(c):
    check(c, z_inputs, "relu_grad", ref.relu_grad)


@graded("linear_grad", "within-layer", "z of shape (n, b)")
@given(case(n=dims(), b=batches(1, 4)))
def test_linear_grad(c):
    check(c, z_inputs, "linear_grad", ref.linear_grad)


@graded("softmax_jacobian", "within-layer", "one column z of shape (n, 1)")
@given(case(n=dims(2, 5)))
def test_softmax_jacobian(c):
    check(c, column_z, "softmax_jacobian", ref.softmax_jacobian)


# ---- the link term ∂z^ℓ/∂a^(ℓ-1) and the weight term ∂z^ℓ/∂w^ℓ ------------------------

@graded("link_term", "link-term", "W^ℓ with m ≠ n")
@given(case(m=dims(), n=dims()).filter(rectangular))
def test_link_term_rectangular(c):
    check(c, W_inputs, "link_term", ref.link_term)


@graded("link_term", "link-term", "W^ℓ with m = n (a transposed W keeps the shape)")
@given(case(m=dims(2, 4), n=dims(2, 4)).filter(square))
def test_link_term_square(c):
    check(c, W_inputs, "link_term", ref.link_term)


@graded("weight_term", "weight-term", "one column (b = 1)")
@given(case(m=dims(), b=ONE))
def test_weight_term_single(c):
    check(c, a_prev_inputs, "weight_term", ref.weight_term)


@graded("weight_term", "weight-term", "a batch (b > 1)")
@given(case(m=dims(), b=batches()))
def test_weight_term_batch(c):
    check(c, a_prev_inputs, "weight_term", ref.weight_term)


# ---- chain steps -------------------------------------------------------------------------

@graded("dL_dz", "chain-step", "one column (b = 1)")
@given(case(n=dims(), b=ONE))
def test_dL_dz_single(c):
    check(c, dL_dz_inputs, "dL_dz", ref.dL_dz)


@graded("dL_dz", "chain-step", "a batch with n = b (a matrix product also runs)")
@given(case(n=dims(2, 4)).map(lambda c: type(c)({**c.dims, "b": c.n}, c.seed)))
def test_dL_dz_square_batch(c):
    check(c, dL_dz_inputs, "dL_dz", ref.dL_dz)


@graded("dL_dW", "chain-step", "one column (b = 1)")
@given(case(m=dims(), n=dims(), b=ONE))
def test_dL_dW_single(c):
    check(c, dL_dW_inputs, "dL_dW", ref.dL_dW)


@graded("dL_dW", "chain-step", "a batch (b > 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=batches()).filter(rectangular))
def test_dL_dW_batch(c):
    check(c, dL_dW_inputs, "dL_dW", ref.dL_dW)


@graded("dL_dW0", "chain-step", "one column (b = 1)")
@given(case(n=dims(), b=ONE))
def test_dL_dW0_single(c):
    check(c, dL_dW0_inputs, "dL_dW0", ref.dL_dW0)


@graded("dL_dW0", "chain-step", "a batch (b > 1)")
@given(case(n=dims(), b=batches()))
def test_dL_dW0_batch(c):
    check(c, dL_dW0_inputs, "dL_dW0", ref.dL_dW0)


@graded("dL_da_prev", "chain-step", "one column (b = 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=ONE).filter(rectangular))
def test_dL_da_prev_single(c):
    check(c, dL_da_prev_inputs, "dL_da_prev", ref.dL_da_prev)


@graded("dL_da_prev", "chain-step", "a batch (b > 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=batches()).filter(rectangular))
def test_dL_da_prev_batch(c):
    check(c, dL_da_prev_inputs, "dL_da_prev", ref.dL_da_prev)


@graded("dL_da_prev", "chain-step", "m = n (a transposed W keeps the shape)")
@given(case(m=dims(2, 4), n=dims(2, 4), b=batches(1, 4)).filter(square))
def test_dL_da_prev_square(c):
    check(c, dL_da_prev_inputs, "dL_da_prev", ref.dL_da_prev)


# ---- the forward pass --------------------------------------------------------------------

@graded("forward", "forward", "one layer")
@given(networks(layers=(1, 1), loss="square"))
def test_forward_one_layer(c):
    check(c, forward_inputs, "forward", ref.forward, parts=("Zs", "As"))


@graded("forward", "forward", "two or three layers, every activation")
@given(networks(layers=(2, 3)))
def test_forward_deep(c):
    check(c, forward_inputs, "forward", ref.forward, parts=("Zs", "As"))


# ---- end to end: the whole chain -------------------------------------------------------

@graded("backprop", "end-to-end", "one layer, square loss")
@given(networks(layers=(1, 1), loss="square"))
def test_backprop_one_layer(c):
    check(c, network_inputs, "backprop", ref.backprop, parts=("dWs", "dW0s"))


@graded("backprop", "end-to-end", "two layers, square loss")
@given(networks(layers=(2, 2), loss="square"))
def test_backprop_two_layers(c):
    check(c, network_inputs, "backprop", ref.backprop, parts=("dWs", "dW0s"))


@graded("backprop", "end-to-end", "three or four layers, square loss")
@given(networks(layers=(3, 4), loss="square"))
def test_backprop_deep(c):
    check(c, network_inputs, "backprop", ref.backprop, parts=("dWs", "dW0s"))


@graded("backprop", "end-to-end", "two or three layers of equal width (a transposed W keeps the shape)")
@given(networks(layers=(2, 3), widths=dims(2, 4), loss="square", equal_widths=True))
def test_backprop_equal_widths(c):
    check(c, network_inputs, "backprop", ref.backprop, parts=("dWs", "dW0s"))


@graded("backprop", "end-to-end", "softmax output layer with the nll loss")
@given(networks(layers=(1, 3), loss="nll"))
def test_backprop_nll_softmax(c):
    check(c, network_inputs, "backprop", ref.backprop, parts=("dWs", "dW0s"))


def two_neuron_case(loss):
    f2 = hs.just("sigmoid") if loss == "nll" else hs.sampled_from(ELEMENTWISE)
    return hs.builds(lambda c, f1, f2: type(c)({**c.dims, "f1": f1, "f2": f2}, c.seed, loss=loss),
                     case(m=dims(1, 4)), hs.sampled_from(ELEMENTWISE), f2)


@graded("two_neuron_backprop", "end-to-end", "the notes' two-neuron network, square loss")
@given(two_neuron_case("square"))
def test_two_neuron_square(c):
    check(c, two_neuron_inputs, "two_neuron_backprop", ref.two_neuron_backprop)


@graded("two_neuron_backprop", "end-to-end", "the two-neuron network, sigmoid output, nll loss")
@given(two_neuron_case("nll"))
def test_two_neuron_nll(c):
    check(c, two_neuron_inputs, "two_neuron_backprop", ref.two_neuron_backprop)
