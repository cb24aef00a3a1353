import { useEffect, useRef, type ReactNode } from 'react'

export function Dialog(props: {
  open: boolean
  onClose: () => void
  title: string
  children: ReactNode
}) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    if (props.open && !ref.current?.open) ref.current?.showModal()
    if (!props.open && ref.current?.open) ref.current.close()
  }, [props.open])
  return (
    <dialog ref={ref} onClose={props.onClose} aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.children}
      <form method="dialog">
        <button>Close</button>
      </form>
    </dialog>
  )
}
