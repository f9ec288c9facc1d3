# The part of Cython's pure-Python mode that sandex uses (Cython ships no stubs): what the
# decorators and names mean to a type checker. Compiled, .pxd files give the C types.
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")

compiled: bool

def cclass(cls: _T) -> _T: ...
def final(obj: _T) -> _T: ...
def no_gc(cls: _T) -> _T: ...
def freelist(size: int) -> Callable[[_T], _T]: ...
def locals(**types: Any) -> Callable[[_T], _T]: ...
def boundscheck(on: bool) -> Callable[[_T], _T]: ...
def wraparound(on: bool) -> Callable[[_T], _T]: ...

# C integer types for @locals (uncompiled, plain ints)
longlong: type[int]
bint: type[bool]
p_char: Any  # char *
p_void: Any  # void *
pp_void: Any  # void **
p_longlong: Any  # long long *
NULL: Any
Py_ssize_t: type[int]
