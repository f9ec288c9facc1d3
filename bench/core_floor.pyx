# cython: language_level=3, boundscheck=False, wraparound=False
"""The floor of ``bench/core_floor.py``: what any core behind ``Engine.apply``'s interface does
per command (a Python command in, a list of Python events out), with no book, accounts or
holds: the command's fields, its product and profile, the id index, the events."""
from sandex.core.commands import CancelOrder, PlaceOrder
from sandex.core.model import DoneReason
from sandex.core.slots cimport field, offset
from sandex.core.emit cimport emit_done, emit_opened, emit_received
from sandex.core.state cimport State

cdef Py_ssize_t P_TIME = offset(PlaceOrder, "time")
cdef Py_ssize_t P_ID = offset(PlaceOrder, "order_id")
cdef Py_ssize_t P_PROFILE = offset(PlaceOrder, "profile_id")
cdef Py_ssize_t P_PRODUCT = offset(PlaceOrder, "product_id")
cdef Py_ssize_t P_SIDE = offset(PlaceOrder, "side")
cdef Py_ssize_t P_TYPE = offset(PlaceOrder, "type")
cdef Py_ssize_t P_PRICE = offset(PlaceOrder, "price")
cdef Py_ssize_t P_SIZE = offset(PlaceOrder, "size")
cdef Py_ssize_t P_CLIENT = offset(PlaceOrder, "client_oid")
cdef Py_ssize_t C_TIME = offset(CancelOrder, "time")
cdef Py_ssize_t C_ID = offset(CancelOrder, "order_id")
cdef Py_ssize_t C_PROFILE = offset(CancelOrder, "profile_id")
CANCELED = DoneReason.CANCELED

cdef class Floor:
    cdef dict products, profiles, ids
    cdef State state  # where the emission points append, as the engine's own state
    cdef long long sequence
    cdef int events_only

    def __init__(self, products, profiles, int events_only=0):
        self.products = {p: p for p in products}
        self.profiles = {p: p for p in profiles}
        self.ids = {}
        self.sequence = 0
        self.events_only = events_only
        self.state = State()

    def apply(self, command):
        cdef list events = []
        self.state._events = events
        cdef object t, order_id, profile_id, product_id, side, placed
        if type(command) is PlaceOrder:
            t = field(command, P_TIME)
            order_id = field(command, P_ID)
            profile_id = field(command, P_PROFILE)
            product_id = field(command, P_PRODUCT)
            side = field(command, P_SIDE)
            if not self.events_only:
                if self.products.get(product_id) is None or self.profiles.get(profile_id) is None:
                    return events
                if self.ids.setdefault(order_id, command) is not command:
                    return events
            self.sequence += 1
            emit_received(self.state, t, product_id, self.sequence, order_id, profile_id, side,
                          field(command, P_TYPE), field(command, P_PRICE),
                          field(command, P_SIZE), None, field(command, P_CLIENT), None)
            self.sequence += 1
            emit_opened(self.state, t, product_id, self.sequence, order_id, profile_id, side,
                        field(command, P_PRICE), field(command, P_SIZE))
        elif type(command) is CancelOrder:
            t = field(command, C_TIME)
            order_id = field(command, C_ID)
            if self.events_only:
                placed = command
                product_id = side = None
            else:
                placed = self.ids.pop(order_id, None)
                if placed is None:
                    return events
                product_id = field(placed, P_PRODUCT)
                side = field(placed, P_SIDE)
            self.sequence += 1
            emit_done(self.state, t, product_id, self.sequence, order_id,
                      field(command, C_PROFILE), side, CANCELED, None, None, None, None)
        return events
