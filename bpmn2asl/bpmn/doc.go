// Package bpmn reads BPMN 2.0 XML into a small model the compiler works on.
//
// Parse works in three passes over one file:
//
//  1. Decoding: the bytes are normalised to UTF-8 (BOM removed; ISO-8859-1
//     and windows-1252 declarations converted) and tokenised with
//     encoding/xml. Elements are matched by namespace URI, not prefix, so
//     bpmn:, bpmn2:, semantic:, model: and the default namespace are all the
//     same. Every element keeps the line:column of its start tag and of its
//     attributes. BPMN DI is skipped (Definitions.HasDiagram records it).
//  2. Building: definitions, processes, collaborations, root messages,
//     errors, signals and escalations; flow nodes and sequence flows per
//     scope (process or sub-process), with their event definitions, loop
//     characteristics and Zeebe (Camunda 8) / Camunda 7 extensions.
//     Unknown elements in flow positions become Unsupported nodes so the
//     compiler can name them precisely.
//  3. Resolving: ids are indexed; sequence flows are linked to their source
//     and target (Incoming/Outgoing); boundary events to their activity;
//     default flows, message/error/signal/escalation references and
//     participants' processes are resolved. Each failure is a diagnostic.
//
// Parse never panics and never hangs: nesting depth and element count are
// bounded, and an internal failure becomes a BPMN999 diagnostic. References
// written with a prefix ("ns:Task_1") are resolved by their local part.
//
// The model is plain data: fields that do not apply to a node's kind are
// zero. Positions are 1-based; columns count runes.
package bpmn
