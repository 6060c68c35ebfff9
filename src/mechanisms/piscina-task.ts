/** piscina's task for the `piscina` mechanism: return the message it was given (the echo). */
export default function echo(msg: Uint8Array): Uint8Array {
  return msg
}
