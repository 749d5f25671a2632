; Airflow DAG structure: DAGs, task groups, tasks and the helpers that order tasks.
; Run once over a whole file that mentions `airflow` (src/extract/python/airflow.rs),
; not per call like the read / write patterns: a task is any call with `task_id=`,
; whatever its operator's name. Roles and captures: README.md ("DAG structure").
; The SQL tasks run is in airflow.scm (role @sql, per call).

; DAG("id", …) / DAG(dag_id="id", …) / models.DAG(…): a DAG, in a `with` or a variable.
((call
   function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
   arguments: (argument_list . (_) @dag_id)) @dag
  (#eq? @_f "DAG"))

((call
   function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @dag_id))) @dag
  (#eq? @_f "DAG")
  (#eq? @_k "dag_id"))

; TaskGroup("id") / TaskGroup(group_id="id"): task ids inside are `group.task`.
((call
   function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
   arguments: (argument_list . (_) @group_id)) @group
  (#eq? @_f "TaskGroup"))

((call
   function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @group_id))) @group
  (#eq? @_f "TaskGroup")
  (#eq? @_k "group_id"))

; @dag / @dag(…) / @dag(dag_id="…"): the function's body is the DAG, named by dag_id or
; by the function.
((decorated_definition
   (decorator [(identifier) @_f
               (attribute attribute: (identifier) @_f)
               (call function: [(identifier) @_f (attribute attribute: (identifier) @_f)])])
   definition: (function_definition name: (identifier) @function)) @dag_function
  (#eq? @_f "dag"))

((decorated_definition
   (decorator (call
     function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
     arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @dag_id))))) @dag_function
  (#eq? @_f "dag")
  (#eq? @_k "dag_id"))

; @task / @task(…) / @task.python / @task.virtualenv(…) …: TaskFlow. Calling the function
; in a DAG makes the task, named by task_id or by the function.
((decorated_definition
   (decorator [(identifier) @_f
               (attribute object: (identifier) @_f)
               (call function: [(identifier) @_f (attribute object: (identifier) @_f)])])
   definition: (function_definition name: (identifier) @function)) @task_function
  (#eq? @_f "task"))

((decorated_definition
   (decorator (call
     function: [(identifier) @_f (attribute object: (identifier) @_f)]
     arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @task_id))))) @task_function
  (#eq? @_f "task")
  (#eq? @_k "task_id"))

; Any operator: BaseOperator's task_id= makes a task; dag= names its DAG outside a `with`.
((call
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @task_id))) @task
  (#eq? @_k "task_id"))

((call
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @dag_ref))) @task
  (#eq? @_k "dag"))

; PythonOperator and its kin: the task runs the file's function, and takes its lineage.
((call
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (identifier) @callable))) @task
  (#eq? @_k "python_callable"))

; Ordering helpers (`>>` and `<<` are Python operators: the Rust side knows them).
((call function: [(identifier) @_f (attribute attribute: (identifier) @_f)]) @depends
  (#eq? @_f "chain")
  (#set! order "chain"))

((call function: [(identifier) @_f (attribute attribute: (identifier) @_f)]) @depends
  (#eq? @_f "chain_linear")
  (#set! order "chain_linear"))

((call function: [(identifier) @_f (attribute attribute: (identifier) @_f)]) @depends
  (#eq? @_f "cross_downstream")
  (#set! order "cross"))

((call function: (attribute attribute: (identifier) @_f)) @depends
  (#eq? @_f "set_downstream")
  (#set! order "downstream"))

((call function: (attribute attribute: (identifier) @_f)) @depends
  (#eq? @_f "set_upstream")
  (#set! order "upstream"))
