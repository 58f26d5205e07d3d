package claude

import "encoding/json"

// What the adapter writes to Claude Code's stdin, one JSON object a line,
// shaped as the official Agent SDKs shape it.

// userMessage is the turn's prompt.
func userMessage(prompt string) []byte {
	return mustJSON(map[string]any{
		"type":               "user",
		"session_id":         "",
		"message":            map[string]any{"role": "user", "content": prompt},
		"parent_tool_use_id": nil,
	})
}

// controlRequest asks Claude Code something (initialize, interrupt).
func controlRequest(id string, request map[string]any) []byte {
	return mustJSON(map[string]any{"type": "control_request", "request_id": id, "request": request})
}

// allow answers can_use_tool: go ahead, with the input as asked for.
func allow(requestID string, input map[string]any) []byte {
	if input == nil {
		input = map[string]any{}
	}
	return controlSuccess(requestID, map[string]any{"behavior": "allow", "updatedInput": input})
}

// deny answers can_use_tool: no, because of message; interrupt also
// stops the turn.
func deny(requestID, message string, interrupt bool) []byte {
	r := map[string]any{"behavior": "deny", "message": message}
	if interrupt {
		r["interrupt"] = true
	}
	return controlSuccess(requestID, r)
}

func controlSuccess(requestID string, response map[string]any) []byte {
	return mustJSON(map[string]any{
		"type":     "control_response",
		"response": map[string]any{"subtype": "success", "request_id": requestID, "response": response},
	})
}

// controlError answers a control request the adapter cannot serve.
func controlError(requestID, message string) []byte {
	return mustJSON(map[string]any{
		"type":     "control_response",
		"response": map[string]any{"subtype": "error", "request_id": requestID, "error": message},
	})
}

// mustJSON encodes what the adapter builds itself: maps of strings, bools
// and inputs that were decoded from JSON, which always encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("claude: encoding a protocol message: " + err.Error())
	}
	return b
}
