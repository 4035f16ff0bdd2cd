"""A cache hint for compiled loops: ``prefetch(array, i)`` asks the CPU to bring the line of
``array[i]`` into its caches and returns at once (LLVM's ``llvm.prefetch``, which numba does
not expose). It changes no value: a loop that knows the addresses it will read a few dozen
steps ahead overlaps those cache misses instead of waiting for each in turn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from llvmlite import ir
from numba import types
from numba.core import cgutils as _cgutils
from numba.extending import intrinsic

cgutils: Any = _cgutils  # untyped helpers of numba's
_I8P = ir.IntType(8).as_pointer()
_I32 = ir.IntType(32)
# LLVM names an intrinsic by its pointer type: "p0" for opaque pointers (what llvmlite builds
# on LLVM 15 and later), "p0i8" for the typed i8* of older llvmlite.
_NAME = "llvm.prefetch.p0" if str(_I8P) == "ptr" else "llvm.prefetch.p0i8"


@intrinsic
def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:
    """Hint: ``array[index]`` (a 1-d array, an in-bounds integer index) will be read and
    written soon. Call only from compiled code."""
    sig = types.void(array, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(
            context, builder, array_type, view, [args[1]], wraparound=False
        )
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [_I8P, _I32, _I32, _I32]), _NAME
        )
        # write intent (1), keep in every cache level (3), data not instructions (1)
        builder.call(fn, [builder.bitcast(ptr, _I8P), _I32(1), _I32(3), _I32(1)])
        return context.get_dummy_value()

    return sig, codegen


# what compiled code calls (the decorated function takes the typing context first)
prefetch = cast(Callable[[Any, Any], None], _prefetch)
