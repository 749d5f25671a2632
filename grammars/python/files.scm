; Plain files opened for writing: open(path, "w" / "a" / "x" …). Conventions: README.md.
; Files opened for reading are left out on purpose: most are configuration (config.yaml,
; credentials), not data, and a file a script writes and reads back is its own output.

((call
   function: (identifier) @_f
   arguments: (argument_list . (_) @name . (string) @_mode)) @write
  (#any-of? @_f "open" "gzip.open")
  (#match? @_mode "^[rbtf]*[\"'][rbt+]*[wax]"))
((call
   function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
   arguments: (argument_list . (_) @name (keyword_argument name: (identifier) @_k value: (string) @_mode))) @write
  (#eq? @_f "open")
  (#eq? @_k "mode")
  (#match? @_mode "^[rbtf]*[\"'][rbt+]*[wax]"))
