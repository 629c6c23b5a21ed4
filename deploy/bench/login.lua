-- wrk script: every request logs the same (existing) account in.
wrk.method = "POST"
wrk.path = "/api/v1/auth/login"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench-login@example.org","password":"correct horse battery staple"}'
function response(status)
  if status ~= 200 then io.stderr:write("unexpected status " .. status .. "\n") end
end
