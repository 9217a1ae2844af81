"""moto's server (`moto_server`), answering one request at a time.

moto serves each request on its own thread with no lock around its DynamoDB
model, and its TransactWriteItems rolls back a cancelled transaction by
restoring a deep copy of the whole table taken before it began
(moto/dynamodb/models/__init__.py, `transact_write_items`): a transaction
cancelled while another request committed erases that commit. DynamoDB
itself never does that (a transaction is serializable, a conditional write
atomic), so a race run on moto as shipped would report moto's lost updates
as the service's. Serializing the requests gives every request the atomicity
DynamoDB promises; moto stays a second, independent implementation of the
conditions, transactions and errors, and stays slow (a transaction still
copies the table).

Usage: python serialized_server.py [moto_server options], e.g. -H 127.0.0.1 -p 5000.
"""

import sys
import threading

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_ONE_AT_A_TIME = threading.Lock()
_dispatch = DomainDispatcherApplication.__call__


def _serialized(self, environ, start_response):
    with _ONE_AT_A_TIME:
        # The body is built inside the call: the model's work is done here.
        return list(_dispatch(self, environ, start_response))


DomainDispatcherApplication.__call__ = _serialized

if __name__ == "__main__":
    server.main(sys.argv[1:])
