; Configuration files a script loads: their values are data the data flow can use (a path in
; config.yaml, a table name in settings.json). Conventions: README.md.
; The file is never opened by git-lineage while analyzing: the caller gives the text of the
; project's configuration files (src/extract/python/project.rs), the loader pattern says how
; to read it.

; open(path): a handle on a local file, what a loader below is given.
((call
   function: (identifier) @_f
   arguments: (argument_list . (_) @name)) @open
  (#any-of? @_f "open"))

; yaml.safe_load(handle) / yaml.load(handle, Loader=…) / yaml.full_load(handle)
((call
   function: (attribute object: (identifier) @_m attribute: (identifier) @_f)
   arguments: (argument_list . (_) @source)) @config
  (#eq? @_m "yaml")
  (#any-of? @_f "safe_load" "load" "full_load")
  (#set! format "yaml"))

; json.load(handle)
((call
   function: (attribute object: (identifier) @_m attribute: (identifier) @_f)
   arguments: (argument_list . (_) @source)) @config
  (#eq? @_m "json")
  (#eq? @_f "load")
  (#set! format "json"))

; toml.load(path or handle), tomllib.load(handle)
((call
   function: (attribute object: (identifier) @_m attribute: (identifier) @_f)
   arguments: (argument_list . (_) @source)) @config
  (#any-of? @_m "toml" "tomllib" "tomli")
  (#eq? @_f "load")
  (#set! format "toml"))
