; boto3 S3 transfers: objects named s3://bucket/key. Conventions: README.md.
; A method of `self` with the same name is the class's own (distutils' upload_file), not boto3's.

; s3.download_file(Bucket, Key, Filename): reads the object, writes the local file.
; (get_object takes keywords only: a positional get_object is someone else's, D-Bus's.)
((call
   function: (attribute object: (_) @_o attribute: (identifier) @_m)
   arguments: (argument_list . (_) @bucket . (_) @key)) @read
  (#any-of? @_m "download_file" "download_fileobj")
  (#not-eq? @_o "self")
  (#set! template "s3://{bucket}/{key}"))
((call
   function: (attribute object: (_) @_o attribute: (identifier) @_m)
   arguments: (argument_list . (_) . (_) . (_) @name)) @write
  (#eq? @_m "download_file")
  (#not-eq? @_o "self"))

; s3.upload_file(Filename, Bucket, Key) / upload_fileobj(f, Bucket, Key)
((call
   function: (attribute object: (_) @_o attribute: (identifier) @_m)
   arguments: (argument_list . (_) . (_) @bucket . (_) @key)) @write
  (#any-of? @_m "upload_file" "upload_fileobj")
  (#not-eq? @_o "self")
  (#set! template "s3://{bucket}/{key}"))
((call
   function: (attribute object: (_) @_o attribute: (identifier) @_m)
   arguments: (argument_list . (_) @name)) @read
  (#eq? @_m "upload_file")
  (#not-eq? @_o "self"))

; keyword forms: get_object(Bucket=…, Key=…), put_object(Bucket=…, Key=…, Body=…)
((call
   function: (attribute object: (_) @_o attribute: (identifier) @_m)
   arguments: (argument_list
     (keyword_argument name: (identifier) @_b value: (_) @bucket)
     (keyword_argument name: (identifier) @_k value: (_) @key))) @read
  (#any-of? @_m "get_object" "download_file")
  (#not-eq? @_o "self")
  (#eq? @_b "Bucket")
  (#eq? @_k "Key")
  (#set! template "s3://{bucket}/{key}"))
((call
   function: (attribute object: (_) @_o attribute: (identifier) @_m)
   arguments: (argument_list
     (keyword_argument name: (identifier) @_b value: (_) @bucket)
     (keyword_argument name: (identifier) @_k value: (_) @key))) @write
  (#any-of? @_m "put_object" "upload_file" "upload_fileobj")
  (#not-eq? @_o "self")
  (#eq? @_b "Bucket")
  (#eq? @_k "Key")
  (#set! template "s3://{bucket}/{key}"))
