"""The bundled GitHub-compatible server: state, JSON views, routes, faults and the HTTP front."""
