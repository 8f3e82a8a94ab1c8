-- Examples are documentation for analysts, never built.
this is not even SQL
