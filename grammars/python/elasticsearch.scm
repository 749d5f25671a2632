; Elasticsearch: documents indexed into an index. Conventions: README.md.

; es.index(index="name", body=doc / document=doc)
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @name))) @write
  (#any-of? @_m "index" "bulk" "create")
  (#eq? @_k "index"))
