# A replay's inner call compiled as a C function (sandex/node/applying.py): ``apply`` and
# ``apply_run`` feed the read models through it without a Python call.

from sandex.views.orders cimport OrdersView

cdef _feed(object node, object engine, OrdersView orders, list events)
