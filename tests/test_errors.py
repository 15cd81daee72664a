"""Bad input raises a clear exception that names the op and the shapes involved."""
import numpy as np
import pytest

import fastdl


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
                                lambda a, b: a / b, lambda a, b: a ** b,
                                fastdl.maximum, fastdl.minimum, lambda a, b: a < b,
                                lambda a, b: a == b])
def test_mismatched_broadcast_names_both_shapes(op):
    a = fastdl.ones(3, 4)
    b = fastdl.ones(5)
    with pytest.raises(ValueError) as e:
        op(a, b)
    msg = str(e.value)
    assert "(3, 4)" in msg and "(5,)" in msg


def test_mismatched_broadcast_in_backward_graph():
    a = fastdl.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        a * fastdl.ones(3, 2)


def test_mismatched_broadcast_with_numpy_array():
    with pytest.raises(ValueError, match=r"\(4,\)"):
        fastdl.ones(4) + np.ones(3, np.float32)


def test_inplace_broadcast_to_bigger_shape_raises():
    a = fastdl.zeros(3)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        a += fastdl.ones(2, 3)


@pytest.mark.parametrize("data", [np.zeros(3, np.complex64), np.array(["a"]), [1j],
                                  ["s"], np.array([object()])])
def test_unsupported_dtype(data):
    with pytest.raises(TypeError, match="dtype"):
        fastdl.tensor(data)


def test_unsupported_dtype_argument():
    with pytest.raises(TypeError, match="complex"):
        fastdl.ones(2, dtype=np.complex128)
    with pytest.raises(TypeError):
        fastdl.from_numpy(np.array(["x"]))


def test_requires_grad_on_integers():
    with pytest.raises(RuntimeError, match="int64"):
        fastdl.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(RuntimeError):
        fastdl.arange(3).requires_grad_()
    with pytest.raises(RuntimeError):
        fastdl.ones(2, dtype=fastdl.bool_, requires_grad=True)


def test_reshape_wrong_size():
    with pytest.raises(ValueError) as e:
        fastdl.ones(2, 3).reshape(4, 2)
    msg = str(e.value)
    assert "reshape" in msg and "(4, 2)" in msg and "(2, 3)" in msg


def test_view_two_minus_ones():
    with pytest.raises(ValueError, match="reshape"):
        fastdl.ones(6).view(-1, -1)


@pytest.mark.parametrize("fn", [fastdl.amax, fastdl.amin, lambda t, d: t.max(d),
                                lambda t, d: fastdl.argmax(t, d)])
def test_reduce_over_empty_dim(fn):
    t = fastdl.ones(3, 0)
    with pytest.raises(ValueError) as e:
        fn(t, 1)
    assert "(3, 0)" in str(e.value)


def test_amax_over_nonempty_dim_of_empty_tensor_is_fine():
    assert fastdl.amax(fastdl.ones(0, 3), 1).shape == (0,)


def test_reduce_dim_out_of_range():
    with pytest.raises(ValueError, match="sum.*dim 2"):
        fastdl.ones(2, 3).sum(2)
    with pytest.raises(ValueError, match="mean"):
        fastdl.ones(2, 3).mean((0, 0))


def test_cat_mismatched_shapes():
    with pytest.raises(ValueError) as e:
        fastdl.cat([fastdl.ones(2, 3), fastdl.ones(2, 4)], 0)
    msg = str(e.value)
    assert "cat" in msg and "(2, 3)" in msg and "(2, 4)" in msg
    with pytest.raises(ValueError, match="cat"):
        fastdl.cat([fastdl.ones(2, 3), fastdl.ones(3)])
    with pytest.raises(ValueError, match="cat"):
        fastdl.cat([])


def test_stack_mismatched_shapes():
    with pytest.raises(ValueError, match=r"stack.*\(2,\).*\(3,\)"):
        fastdl.stack([fastdl.ones(2), fastdl.ones(3)])


def test_split_bad_sections():
    with pytest.raises(ValueError, match="split"):
        fastdl.ones(5).split([2, 2])
    with pytest.raises(ValueError, match="split"):
        fastdl.ones(5).split(0)


def test_expand_and_permute_errors():
    with pytest.raises(ValueError, match=r"expand.*\(3, 2\)"):
        fastdl.ones(3, 2).expand(3, 4)
    with pytest.raises(ValueError, match="permute"):
        fastdl.ones(2, 3).permute(0, 2)
    with pytest.raises(ValueError, match="transpose"):
        fastdl.ones(2, 3).transpose(0, 4)


def test_getitem_out_of_range_names_shape():
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        fastdl.ones(2, 3)[5]


def test_item_on_many_elements():
    with pytest.raises(ValueError, match=r"\(2,\)"):
        fastdl.ones(2).item()


def test_bool_of_many_elements():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(fastdl.ones(2))


def test_bad_isa_name():
    from fastdl._C import _core
    with pytest.raises(ValueError, match="set_isa"):
        _core.set_isa("sse9")


def test_set_num_threads_rejects_zero():
    with pytest.raises(ValueError):
        fastdl.set_num_threads(0)


def test_linspace_and_randint_errors():
    with pytest.raises(ValueError):
        fastdl.linspace(0, 1, -1)
    with pytest.raises(ValueError, match="high"):
        fastdl.randint(3, 1, (2,))
    with pytest.raises(ValueError):
        fastdl.randperm(-1)


def test_argmax_int_over_empty_dim():
    with pytest.raises(ValueError, match=r"\(3, 0\)"):
        fastdl.zeros(3, 0, dtype=fastdl.int64).argmax(1)
