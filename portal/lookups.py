"""`field__any=[...]`: membership in a list of keys, as one array parameter on PostgreSQL.

A list page reads its rows among the keys it counted (portal.pagination), up to a thousand
of them. `IN (%s, %s, ...)` makes Django build and PostgreSQL parse a parameter per key;
`= ANY(%s)` passes them as one array, which plans the same. Other databases use `IN`.
"""

from django.db import models
from django.db.models.lookups import In


class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        element = self.lhs.output_field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{element}[])", (*lhs_params, list(self.rhs))


models.Field.register_lookup(AnyOf)
